/* Booting a whole simulator in a test. */
#ifndef TESTLIB_SIM_H
#define TESTLIB_SIM_H

#include "sim.h"

/* The arch's default configuration at mem= and with swap (NULL: none), RAM = mem. */
void tl_sim_config(struct machine_config *cfg, enum arch arch, const char *mem, const char *swap);
/* sim_create at model level; the test fails if the machine does not boot. */
struct sim *tl_sim_create(const struct machine_config *cfg, struct strtab *strings);

#endif
