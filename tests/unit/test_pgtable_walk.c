/* pte_offset and pte_range against a walk written here from the kernel's constants, for
 * the three shapes (pgtable.c specialises its walks on them): the same slot, the same
 * hole, the same count of pages to the end of the table or hole, at random addresses
 * around random populated ones. */
#include <criterion/criterion.h>
#include <string.h>

#include "pgtable.h"
#include "sim.h"

/* arch/x86/include/asm/pgtable-{2,3}level_types.h, pgtable_64_types.h */
struct ref_shape {
	unsigned levels, shift[PT_MAX_LEVELS], ptrs[PT_MAX_LEVELS];
};
static const struct ref_shape ref_i386 = {2, {22, 12}, {1024, 1024}};
static const struct ref_shape ref_pae = {3, {30, 21, 12}, {4, 512, 512}};
static const struct ref_shape ref_x86_64 = {4, {39, 30, 21, 12}, {512, 512, 512, 512}};

static struct strtab strings;

static struct sim *boot(enum arch arch)
{
	struct machine_config cfg;
	char err[256];
	machine_config_default(&cfg, arch);
	cr_assert_eq(parse_size("512M", &cfg.mem_limit, err, sizeof(err)), 0);
	cfg.ram = cfg.mem_limit;
	cfg.nr_cpus = 1;
	strtab_init(&strings);
	struct sim *s = sim_create(&cfg, &strings, REPLAY_MODEL, err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	return s;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The slot for addr, or NULL with *stop = the level whose entry is missing. */
static pte_t *ref_walk(const struct pgtable_ctx *c, const struct pgd *pgd,
		       const struct ref_shape *r, uint64_t addr, unsigned *stop)
{
	uint32_t idx = pgd->root;
	for (unsigned l = 0; l < r->levels; l++) {
		pte_t *e = &c->arena[(uint64_t)idx * c->words +
				     ((addr >> r->shift[l]) & (r->ptrs[l] - 1))];
		*stop = l;
		if (l + 1 == r->levels)
			return e;
		if (!*e)
			return NULL;
		idx = (uint32_t)(*e - 1);
	}
	return NULL;
}

static void check_at(struct sim *s, struct pgd *pgd, const struct ref_shape *r, uint64_t addr,
		     uint64_t end)
{
	struct pgtable_ctx *c = &s->mm.pt;
	unsigned stop;
	pte_t *want = ref_walk(c, pgd, r, addr, &stop);
	cr_assert_eq(pte_offset(c, pgd, addr, false, 0), want, "pte_offset at %#llx",
		     (unsigned long long)addr);
	uint64_t n = 0;
	cr_assert_eq(pte_range(c, pgd, addr, end, &n), want, "pte_range at %#llx",
		     (unsigned long long)addr);
	/* a pte table covers its pmd entry's span; a hole the span of the missing entry */
	unsigned shift = want ? r->shift[r->levels - 2] : r->shift[stop];
	uint64_t next = (addr | ((1ull << shift) - 1)) + 1;
	if (next > end || next == 0)
		next = end;
	cr_assert_eq(n, (next - addr + 4095) >> 12, "n at %#llx..%#llx", (unsigned long long)addr,
		     (unsigned long long)end);
}

#define NR_MAPPED 200

static void walk_run(enum arch arch, const struct ref_shape *r)
{
	struct sim *s = boot(arch);
	struct pgtable_ctx *c = &s->mm.pt;
	uint64_t top = c->geo.task_size;
	struct pgd pgd;
	cr_assert_eq(pgd_alloc(c, &pgd, 0), 0);
	uint64_t mapped[NR_MAPPED];
	for (unsigned i = 0; i < NR_MAPPED; i++) {
		/* clustered: half near the bottom, so tables get shared and neighbours found */
		uint64_t a = (i & 1 ? next_rand() % top : next_rand() % (64ull << 20)) & ~4095ull;
		pte_t *pte = pte_offset(c, &pgd, a, true, 0);
		cr_assert_not_null(pte);
		*pte = pfn_pte(i + 1, _PAGE_PRESENT);
		mapped[i] = a;
		unsigned stop;
		cr_assert_eq(ref_walk(c, &pgd, r, a, &stop), pte); /* the arena may have moved */
		cr_assert(pgtable_groups_cover(c, &pgd));
	}
	for (unsigned i = 0; i < 20000; i++) {
		uint64_t base = i & 1 ? mapped[next_rand() % NR_MAPPED] : next_rand() % top;
		uint64_t off = (next_rand() % (16ull << 20)) - (8ull << 20);
		uint64_t addr = base + off < top ? base + off : base;
		uint64_t end = i & 2 ? top : addr + 1 + next_rand() % (8ull << 20);
		if (end > top)
			end = top;
		check_at(s, &pgd, r, addr, end);
	}
	for (unsigned i = 0; i < NR_MAPPED; i++) {
		pte_t *pte = pte_offset(c, &pgd, mapped[i], false, 0);
		cr_assert_not_null(pte);
		*pte = 0; /* freed tables must be empty */
	}
	pgd_free(c, &pgd, 0);
	cr_assert(pgtable_free_slots_zero(c));
	sim_destroy(s);
	strtab_free(&strings);
}

Test(pgtable_walk, i386_matches_reference) { walk_run(ARCH_I386, &ref_i386); }
Test(pgtable_walk, pae_matches_reference) { walk_run(ARCH_I386_PAE, &ref_pae); }
Test(pgtable_walk, x86_64_matches_reference) { walk_run(ARCH_X86_64, &ref_x86_64); }
