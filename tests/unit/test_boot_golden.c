/* `mmreplay boot` as a user runs it: golden outputs (tests/golden/boot-*.txt, regenerate
 * with tests/golden/update.sh), the kernel's own lines against the real boots in
 * tests/kernel-logs/, and one-line refusals of bad input. The binary is $MMREPLAY. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct run {
	char *out, *err;
	int status;
};

static char *slurp(FILE *f)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	cr_assert_not_null(buf);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
	}
	buf[len] = 0;
	return buf;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *s = slurp(f);
	fclose(f);
	return s;
}

static struct run mmreplay(const char *args)
{
	const char *bin = getenv("MMREPLAY");
	char errpath[] = "/tmp/mmreplay-test-XXXXXX";
	int fd = mkstemp(errpath);
	cr_assert_geq(fd, 0);
	close(fd);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "'%s' %s 2>'%s'", bin ? bin : "bin/mmreplay", args, errpath);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	struct run r;
	r.out = slurp(p);
	int st = pclose(p);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	r.err = read_file(errpath);
	unlink(errpath);
	cr_assert_not_null(r.err);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static const struct {
	const char *file, *args;
} goldens[] = {
    {"tests/golden/boot-i386-256M.txt", "boot --arch=i386 --mem=256M"},
    {"tests/golden/boot-i386-512M.txt", "boot --arch=i386 --mem=512M"},
    {"tests/golden/boot-i386-1G.txt", "boot --arch=i386 --mem=1G"},
    {"tests/golden/boot-i386-5G.txt", "boot --arch=i386 --mem=5G"},
    {"tests/golden/boot-i386-pae-5G.txt", "boot --arch=i386-pae --mem=5G"},
    {"tests/golden/boot-x86_64-1G.txt", "boot --arch=x86_64 --mem=1G"},
};

Test(boot_golden, output_matches_committed_files)
{
	for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		char *want = read_file(goldens[i].file);
		cr_assert_not_null(want, "missing %s (tests/golden/update.sh)", goldens[i].file);
		struct run r = mmreplay(goldens[i].args);
		cr_expect_eq(r.status, 0, "%s: %s", goldens[i].args, r.err);
		cr_expect_str_empty(r.err);
		cr_expect_str_eq(r.out, want, "%s differs from %s", goldens[i].args,
				 goldens[i].file);
		run_free(&r);
		free(want);
	}
}

Test(boot_golden, deterministic)
{
	struct run a = mmreplay("boot --arch=i386-pae --mem=5G --cpus=2");
	struct run b = mmreplay("boot --arch=i386-pae --mem=5G --cpus=2");
	cr_expect_str_eq(a.out, b.out);
	run_free(&a);
	run_free(&b);
}

/* The kernel lines mmreplay reproduces exactly, from the real boot logs; the memmap lines
 * mmreplay adds are pr_debug and absent from the logs. */
static bool reproduced(const char *line)
{
	static const char *const prefixes[] = {"BIOS-provided",
					       "BIOS-e820:",
					       "e820: remove",
					       "user-defined",
					       "user:",
					       "last_pfn",
					       "Zone ranges:",
					       "  DMA ",
					       "  DMA32 ",
					       "  Normal ",
					       "  HighMem ",
					       "Movable zone",
					       "Early memory",
					       "  node ",
					       "Initmem setup",
					       "On node 0",
					       "Built 1 zonelists",
					       "Dentry cache hash",
					       "Inode-cache hash",
					       "Initializing HighMem",
					       "  mapped low ram",
					       "  low ram",
					       "software IO TLB:",
					       "Memory:"};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(line, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	size_t n = strlen(line);
	return n > 20 &&
	       (strstr(line, "MB HIGHMEM available.") || strstr(line, "MB LOWMEM available."));
}

static const struct {
	const char *log, *args;
} real_boots[] = {
    {"686-mem256M", "--arch=i386 --mem=256M"},
    {"686-mem512M", "--arch=i386 --mem=512M"},
    {"686-mem1G", "--arch=i386 --mem=1G"},
    {"686-mem5G", "--arch=i386 --mem=5G"},
    {"686-nomem-m1G", "--arch=i386 --ram=1G"},
    {"686-nomem-m5G", "--arch=i386 --ram=5G"},
    {"686-pae-mem256M", "--arch=i386-pae --mem=256M"},
    {"686-pae-mem512M", "--arch=i386-pae --mem=512M"},
    {"686-pae-mem1G", "--arch=i386-pae --mem=1G"},
    {"686-pae-mem5G", "--arch=i386-pae --mem=5G"},
    {"amd64-mem256M", "--arch=x86_64 --mem=256M"},
    {"amd64-mem512M", "--arch=x86_64 --mem=512M"},
    {"amd64-mem1G", "--arch=x86_64 --mem=1G"},
    {"amd64-mem5G", "--arch=x86_64 --mem=5G"},
};

Test(boot_golden, kernel_lines_match_the_real_boots)
{
	for (size_t i = 0; i < sizeof(real_boots) / sizeof(real_boots[0]); i++) {
		char path[256], args[256];
		snprintf(path, sizeof(path), "tests/kernel-logs/%s.log", real_boots[i].log);
		char *log = read_file(path);
		cr_assert_not_null(log, "missing %s", path);
		snprintf(args, sizeof(args), "boot --section=boot %s", real_boots[i].args);
		struct run r = mmreplay(args);
		cr_assert_eq(r.status, 0, "%s", r.err);
		int matched = 0;
		for (char *save = NULL, *l = strtok_r(log, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save)) {
			char *text = strstr(l, "] ");
			if (l[0] != '[' || !text)
				continue;
			text += 2;
			/* boot-time e820 updates for mptable/ACPI are not modeled */
			if (!reproduced(text) || strstr(text, "ACPI"))
				continue;
			char want[512];
			snprintf(want, sizeof(want), "\n%s\n", text);
			cr_expect(strstr(r.out, want) != NULL ||
				      strncmp(r.out, want + 1, strlen(want) - 1) == 0,
				  "%s: real line not reproduced: %s", real_boots[i].log, text);
			matched++;
		}
		cr_expect_geq(matched, 20, "%s: only %d lines compared", real_boots[i].log,
			      matched);
		free(log);
		/* and the other way: each kernel line we print is in the real log, except the
		 * pr_debug memmap lines and mmreplay's own '#' lines */
		log = read_file(path);
		for (char *save = NULL, *l = strtok_r(r.out, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save)) {
			if (l[0] == '#' || strstr(l, " zone: "))
				continue;
			char want[512];
			snprintf(want, sizeof(want), "] %s\n", l);
			cr_expect(strstr(log, want) != NULL, "%s: line not in the real log: %s",
				  real_boots[i].log, l);
		}
		run_free(&r);
		free(log);
	}
}

static const char *const bad_inputs[] = {
	/* clang-format off */
	"boot --mem=abc", "boot --mem=0", "boot --mem=-1G", "boot --mem=100T",
	"boot --arch=sparc", "boot --mem=16M", "boot --mem", "boot --section=nope",
	"boot --frobnicate", "boot --ram=0", "boot --mem=1Q", "boot --arch=x86_64 --mem=40M",
	"boot --cpus=33", "boot --ram=20M", "boot --cpus=0",
	/* clang-format on */
};

Test(boot_golden, bad_input_is_one_line_exit_2_no_output)
{
	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		struct run r = mmreplay(bad_inputs[i]);
		cr_expect_eq(r.status, 2, "%s: exit %d", bad_inputs[i], r.status);
		cr_expect_str_empty(r.out, "%s wrote to stdout", bad_inputs[i]);
		size_t len = strlen(r.err);
		cr_expect(len > 0 && r.err[len - 1] == '\n' &&
			      strchr(r.err, '\n') == r.err + len - 1,
			  "%s: stderr is not one line: [%s]", bad_inputs[i], r.err);
		run_free(&r);
	}
	struct run r = mmreplay("boot --mem=16M");
	cr_expect(strstr(r.err, "smallest mem= it boots with is 32M") != NULL, "%s", r.err);
	run_free(&r);
}

Test(boot_golden, help_and_sections)
{
	struct run r = mmreplay("boot --help");
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.out, "--section") != NULL);
	run_free(&r);
	r = mmreplay("boot --section=layout --arch=i386-pae --mem=1G");
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.out, "virtual kernel memory layout:") != NULL);
	cr_expect(strstr(r.out, "Zone ranges:") == NULL);
	run_free(&r);
}
