#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void machine_opts_init(struct machine_opts *o)
{
	memset(o, 0, sizeof(*o));
}

const char *cli_opt(int argc, char **argv, int *i, const char *name, bool *missing)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	/* *missing is only ever set: callers try several names in a row and then check it */
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != 0)
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

int machine_opts_parse(struct machine_opts *o, int argc, char **argv, int *i)
{
	static const char *const names[] = {"--arch", "--mem", "--ram", "--swap", "--cpus", "--seed"};
	const char **slots[] = {&o->arch, &o->mem, &o->ram, &o->swap, &o->cpus, &o->seed};
	bool missing = false;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		const char *v = cli_opt(argc, argv, i, names[k], &missing);
		if (missing) {
			fprintf(stderr, "mmreplay: %s needs a value\n", names[k]);
			return -1;
		}
		if (v) {
			*slots[k] = v;
			return 1;
		}
	}
	const char *v = cli_opt(argc, argv, i, "--set", &missing);
	if (missing) {
		fprintf(stderr, "mmreplay: --set needs KEY=VALUE\n");
		return -1;
	}
	if (!v)
		return 0;
	if (o->nr_sets == (int)(sizeof(o->sets) / sizeof(o->sets[0]))) {
		fprintf(stderr, "mmreplay: too many --set options\n");
		return -1;
	}
	o->sets[o->nr_sets++] = v;
	return 1;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* --arch first: it picks the modeled kernel whose defaults the other options override. */
int machine_opts_finish(struct machine_opts *o, const char *cmd)
{
	char err[256];
	enum arch arch = ARCH_I386;
	if (o->arch && parse_arch(o->arch, &arch, err, sizeof(err)))
		return cli_usage_error(cmd, "--arch=%s: %s", o->arch, err), -1;
	machine_config_default(&o->cfg, arch);
	struct machine_config *c = &o->cfg;
	if (o->mem) {
		if (parse_size(o->mem, &c->mem_limit, err, sizeof(err)))
			return cli_usage_error(cmd, "--mem=%s: %s", o->mem, err), -1;
		/* x86 parse_memopt ignores mem=0 (it would remove all memory) */
		if (c->mem_limit == 0)
			return cli_usage_error(cmd, "--mem=%s: mem= must be above zero", o->mem), -1;
		/* installed RAM stays the default 6 GiB unless mem= asks for more */
		if (!o->ram && c->mem_limit > c->ram)
			c->ram = c->mem_limit;
	} else if (o->ram) {
		c->mem_limit = 0; /* --ram alone: no mem= on the kernel command line */
	}
	if (o->ram && parse_size(o->ram, &c->ram, err, sizeof(err)))
		return cli_usage_error(cmd, "--ram=%s: %s", o->ram, err), -1;
	if (o->ram && c->ram == 0)
		return cli_usage_error(cmd, "--ram=%s: installed RAM must be above zero", o->ram), -1;
	if (o->swap && strcmp(o->swap, "0") != 0 && parse_size(o->swap, &c->swap_bytes, err, sizeof(err)))
		return cli_usage_error(cmd, "--swap=%s: %s", o->swap, err), -1;
	unsigned long long v;
	if (o->cpus) {
		if (parse_uint(o->cpus, 64, &v) || v == 0)
			return cli_usage_error(cmd, "--cpus=%s: expected a whole number from 1 to 64",
					       o->cpus), -1;
		c->nr_cpus = (unsigned)v;
	}
	if (o->seed) {
		if (parse_uint(o->seed, UINT64_MAX, &v))
			return cli_usage_error(cmd, "--seed=%s: expected a non-negative whole number",
					       o->seed), -1;
		c->seed = v;
	}
	for (int k = 0; k < o->nr_sets; k++) {
		char key[64];
		const char *eq = strchr(o->sets[k], '=');
		size_t n = eq ? (size_t)(eq - o->sets[k]) : 0;
		if (!eq || n == 0 || n >= sizeof(key))
			return cli_usage_error(cmd, "--set %s: expected KEY=VALUE", o->sets[k]), -1;
		memcpy(key, o->sets[k], n);
		key[n] = 0;
		if (machine_config_set(c, key, eq + 1, err, sizeof(err)))
			return cli_usage_error(cmd, "--set %s: %s", o->sets[k], err), -1;
	}
	return 0;
}

void machine_opts_help(FILE *f)
{
	fputs("Machine options:\n"
	      "  --arch=ARCH      i386 (default), i386-pae or x86_64\n"
	      "  --mem=SIZE       the kernel's mem=: highest physical address used (K/M/G/T;\n"
	      "                   default 1G; x86 mem= caps the address, it is not an amount)\n"
	      "  --ram=SIZE       installed RAM, qemu -m (default 6G, or mem= if larger;\n"
	      "                   --ram without --mem boots with no mem= at all)\n"
	      "  --swap=SIZE      swap area size (default 0: no swap)\n"
	      "  --cpus=N         online CPUs (default 1)\n"
	      "  --seed=N         seed for randomized policies (default 0)\n"
	      "  --set vm.KEY=V   a vm sysctl, e.g. vm.overcommit_memory=2, vm.swappiness=100\n",
	      f);
}

static int vreport(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "mmreplay %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

bool cli_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int cli_parse_on_off(const char *cmd, const char *opt, const char *v, int *out)
{
	if (strcmp(v, "on") == 0)
		*out = 1;
	else if (strcmp(v, "off") == 0)
		*out = 0;
	else
		return cli_usage_error(cmd, "%s=%s: expected on or off", opt, v);
	return EXIT_OK;
}

int cli_parse_deflate_level(const char *cmd, const char *v, int *out)
{
	char *end;
	long lv = strtol(v, &end, 10);
	if (!*v || *end || lv < 0 || lv > 12)
		return cli_usage_error(cmd, "--level %s: expected a whole number from 0 to 12", v);
	*out = (int)lv;
	return EXIT_OK;
}

int cli_parse_level(const char *cmd, const char *v, enum replay_level *out)
{
	if (strcmp(v, "model") == 0)
		*out = REPLAY_MODEL;
	else if (strcmp(v, "page") == 0)
		*out = REPLAY_PAGE;
	else
		return cli_usage_error(cmd, "--level=%s: expected model or page", v);
	return EXIT_OK;
}

int cli_read_file(const char *path, char **text, size_t *len)
{
	*text = NULL;
	*len = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	FILE *m = open_memstream(text, len);
	char buf[8192];
	size_t n;
	while (m && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, m);
	bool bad = ferror(f) || !m;
	fclose(f);
	if (m)
		fclose(m);
	if (bad) {
		free(*text);
		*text = NULL;
		*len = 0;
		return -2;
	}
	return 0;
}
