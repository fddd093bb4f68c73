/* The x86 physical memory map (arch/x86/kernel/e820.c): what the firmware reports, what
 * mem= and trim_bios_range() leave, and the last RAM pfn below an architecture limit. */
#ifndef MM_E820_H
#define MM_E820_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum e820_type { E820_TYPE_RAM = 1, E820_TYPE_RESERVED = 2 };

struct e820_entry {
	uint64_t addr, size;
	enum e820_type type;
};

#define E820_MAX_ENTRIES 32

struct e820_table {
	int nr_entries;
	struct e820_entry entries[E820_MAX_ENTRIES];
};

/* The kernel's spelling in "BIOS-e820: [mem …] usable" lines (e820_print_type). */
const char *e820_type_name(enum e820_type type);

/* How qemu -machine pc (i440FX) with SeaBIOS lays out ram bytes of RAM. */
void e820_qemu_pc(struct e820_table *t, uint64_t ram);

/* e820__range_remove: drop [start, start+size) from entries of old_type (all types when
 * !check_type). e820__range_update: retype [start, start+size) from old_type to new_type.
 * Both keep the table sorted; -1 if it would overflow. */
int e820_range_remove(struct e820_table *t, uint64_t start, uint64_t size,
		      enum e820_type old_type, bool check_type);
int e820_range_update(struct e820_table *t, uint64_t start, uint64_t size,
		      enum e820_type old_type, enum e820_type new_type);

/* e820_end_pfn: the last pfn of type RAM, capped at limit_pfn (entries starting at or above
 * it are ignored). */
uint64_t e820_end_pfn(const struct e820_table *t, uint64_t limit_pfn);

/* The boot log line for one entry: "PREFIX: [mem 0x…-0x…] TYPE". */
int e820_format_entry(char *buf, size_t len, const char *prefix, const struct e820_entry *e);

struct machine_config;
/* The three maps the boot log prints: what the firmware (qemu pc + SeaBIOS) reports for
 * cfg->ram, the "user-defined" map after mem= (equal to firmware when there is no mem=),
 * and the final one after trim_bios_range() that memblock is built from. */
int e820_setup_tables(const struct machine_config *cfg, struct e820_table *firmware,
		      struct e820_table *user, struct e820_table *final);

#endif
