/* Physical memory map of the simulated PC (arch/x86/kernel/e820.c). */
#include "e820.h"

#include "machine.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *e820_type_name(enum e820_type type)
{
	return type == E820_TYPE_RAM ? "usable" : "reserved";
}

static int add(struct e820_table *t, uint64_t start, uint64_t end, enum e820_type type)
{
	if (end <= start)
		return 0;
	if (t->nr_entries == E820_MAX_ENTRIES)
		return -1;
	t->entries[t->nr_entries++] = (struct e820_entry){start, end - start, type};
	return 0;
}

/* qemu hw/i386/pc_piix.c: with 3.5 GiB or more, RAM below 4 GiB stops at 3 GiB
 * (gigabyte_align) and the rest is mapped from 4 GiB up. SeaBIOS (src/memmap.c,
 * src/fw/paravirt.c) reports 639 KiB of base memory (the EBDA takes the last KiB), the
 * BIOS area 0xf0000-0xfffff, keeps the top 128 KiB of low RAM for its own tables (ACPI)
 * and marks the 256 KiB BIOS flash image below 4 GiB reserved. This is the map of the
 * reference boots (tests/kernel-logs/, qemu TCG); qemu with KVM on older versions also
 * reserves 0xfeffc000-0xfeffffff, which changes nothing below. */
#define QEMU_PC_LOWMEM_SPLIT 0xe0000000ull
#define QEMU_PC_LOWMEM_ALIGNED 0xc0000000ull
#define SEABIOS_EBDA_START 0x9fc00ull
#define SEABIOS_HIGHTABLE (128ull << 10)
#define FOUR_G (1ull << 32)

void e820_qemu_pc(struct e820_table *t, uint64_t ram)
{
	uint64_t below = ram, above = 0;
	memset(t, 0, sizeof(*t));
	if (ram >= QEMU_PC_LOWMEM_SPLIT) {
		below = QEMU_PC_LOWMEM_ALIGNED;
		above = ram - below;
	}
	add(t, 0, SEABIOS_EBDA_START, E820_TYPE_RAM);
	add(t, SEABIOS_EBDA_START, 0xa0000, E820_TYPE_RESERVED);
	add(t, 0xf0000, 0x100000, E820_TYPE_RESERVED);
	if (below > 0x100000 + SEABIOS_HIGHTABLE) {
		add(t, 0x100000, below - SEABIOS_HIGHTABLE, E820_TYPE_RAM);
		add(t, below - SEABIOS_HIGHTABLE, below, E820_TYPE_RESERVED);
	}
	add(t, 0xfffc0000ull, FOUR_G, E820_TYPE_RESERVED);
	add(t, FOUR_G, FOUR_G + above, E820_TYPE_RAM);
}

/* Replace t's entries by what is left of each after cutting [start, end) out of those that
 * match; the cut part is kept with new_type unless remove. */
static int cut(struct e820_table *t, uint64_t start, uint64_t end, enum e820_type old_type,
	       bool check_type, bool remove, enum e820_type new_type)
{
	struct e820_table out = {0};
	for (int i = 0; i < t->nr_entries; i++) {
		const struct e820_entry *e = &t->entries[i];
		uint64_t es = e->addr, ee = e->addr + e->size;
		if ((check_type && e->type != old_type) || ee <= start || es >= end) {
			if (add(&out, es, ee, e->type))
				return -1;
			continue;
		}
		uint64_t cs = es > start ? es : start, ce = ee < end ? ee : end;
		if (add(&out, es, cs, e->type) || (!remove && add(&out, cs, ce, new_type)) ||
		    add(&out, ce, ee, e->type))
			return -1;
	}
	*t = out;
	return 0;
}

static uint64_t end_of(uint64_t start, uint64_t size)
{
	return size > UINT64_MAX - start ? UINT64_MAX : start + size;
}

int e820_range_remove(struct e820_table *t, uint64_t start, uint64_t size,
		      enum e820_type old_type, bool check_type)
{
	return cut(t, start, end_of(start, size), old_type, check_type, true, old_type);
}

int e820_range_update(struct e820_table *t, uint64_t start, uint64_t size,
		      enum e820_type old_type, enum e820_type new_type)
{
	return cut(t, start, end_of(start, size), old_type, true, false, new_type);
}

uint64_t e820_end_pfn(const struct e820_table *t, uint64_t limit_pfn)
{
	uint64_t last_pfn = 0;
	for (int i = 0; i < t->nr_entries; i++) {
		const struct e820_entry *e = &t->entries[i];
		if (e->type != E820_TYPE_RAM)
			continue;
		uint64_t s = e->addr >> 12, end = (e->addr + e->size) >> 12;
		if (s >= limit_pfn)
			continue;
		if (end > limit_pfn) {
			last_pfn = limit_pfn;
			break;
		}
		if (end > last_pfn)
			last_pfn = end;
	}
	return last_pfn;
}

/* The kernel's %#018Lx always prints the 0x, even for zero; C's # flag drops it for 0. */
int e820_format_entry(char *buf, size_t len, const char *prefix, const struct e820_entry *e)
{
	return snprintf(buf, len, "%s: [mem 0x%016" PRIx64 "-0x%016" PRIx64 "] %s", prefix, e->addr,
			e->addr + e->size - 1, e820_type_name(e->type));
}

/* setup_arch order: e820__memory_setup (firmware map), parse_early_param → parse_memopt
 * (x86 mem= removes RAM at and above the address: e820__range_remove(mem_size,
 * ULLONG_MAX - mem_size, E820_TYPE_RAM, 1)), then trim_bios_range (page 0 becomes
 * reserved, RAM in the 640K-1M BIOS area is removed). */
int e820_setup_tables(const struct machine_config *cfg, struct e820_table *firmware,
		      struct e820_table *user, struct e820_table *final)
{
	e820_qemu_pc(firmware, cfg->ram);
	*user = *firmware;
	if (cfg->mem_limit &&
	    e820_range_remove(user, cfg->mem_limit, UINT64_MAX - cfg->mem_limit, E820_TYPE_RAM, true))
		return -1;
	*final = *user;
	if (e820_range_update(final, 0, 4096, E820_TYPE_RAM, E820_TYPE_RESERVED) ||
	    e820_range_remove(final, 0xa0000, 0x100000 - 0xa0000, E820_TYPE_RAM, true))
		return -1;
	return 0;
}
