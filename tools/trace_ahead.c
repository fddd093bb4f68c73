/* Decoding ahead (trace_reader_ahead): where the process may run on more than one CPU, a
 * second thread calls trace_reader_next for the consumer, batch after batch, and folds
 * every batch into the consumer's hash, so the consumer's thread is left with its own work
 * (replay: the engine). The batches are trace_reader_next's own, in the same sizes, and end
 * with the same error at the same place. The strings the decoding thread defines reach the
 * consumer's copy (trace_reader_strings) with the batch after which they exist.
 * On one CPU (taskset -c 0) the thread would only take turns with the consumer: nothing
 * changes there. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "trace_impl.h"

#define AHEAD_SLOTS 64

struct ahead_slot {
	struct mm_event *ev;
	ssize_t n; /* events, 0 at the end, -1 on error (err) */
	char err[1024];
	/* strings defined up to this batch that the consumer has not seen: each a uint32_t
	 * length and its bytes */
	uint8_t *strs;
	size_t strs_len, strs_cap;
	uint32_t nr_strs;
};

struct trace_ahead {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more, room;
	bool stop;
	unsigned head, tail; /* consumer takes head, the thread fills tail; counts */
	size_t batch;
	trace_fold_fn *fold;
	uint64_t h;	 /* the fold so far: the thread's until the end */
	uint32_t nr_sent; /* the thread's: strings passed on */
	struct strtab pub;
	struct ahead_slot slot[AHEAD_SLOTS];
	bool held;   /* slot[head] handed out, released by the next call */
	bool ended;  /* slot[head] is the last one: its n and err answer every call */
};

static bool several_cpus(void)
{
	cpu_set_t set;
	return sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 1;
}

/* The strings the reader defined since the last batch, copied into s. */
static int collect_strings(struct trace_reader *r, struct trace_ahead *a, struct ahead_slot *s)
{
	s->strs_len = 0;
	s->nr_strs = 0;
	for (; a->nr_sent < r->strings.count; a->nr_sent++) {
		uint32_t len = r->strings.len[a->nr_sent];
		size_t need = s->strs_len + sizeof(len) + len;
		if (need > s->strs_cap) {
			size_t cap = need > 2 * s->strs_cap ? need : 2 * s->strs_cap;
			uint8_t *p = realloc(s->strs, cap);
			if (!p)
				return -1;
			s->strs = p;
			s->strs_cap = cap;
		}
		memcpy(s->strs + s->strs_len, &len, sizeof(len));
		memcpy(s->strs + s->strs_len + sizeof(len), r->strings.str[a->nr_sent], len);
		s->strs_len = need;
		s->nr_strs++;
	}
	return 0;
}

static void *ahead_main(void *arg)
{
	struct trace_reader *r = arg;
	struct trace_ahead *a = r->ahead;
	for (;;) {
		pthread_mutex_lock(&a->lock);
		while (!a->stop && a->tail - a->head == AHEAD_SLOTS)
			pthread_cond_wait(&a->room, &a->lock);
		bool stop = a->stop;
		pthread_mutex_unlock(&a->lock);
		if (stop)
			return NULL;
		struct ahead_slot *s = &a->slot[a->tail % AHEAD_SLOTS];
		s->n = trace_reader_next(r, s->ev, a->batch, s->err, sizeof(s->err));
		if (s->n > 0 && a->fold)
			a->h = a->fold(a->h, s->ev, (size_t)s->n);
		if (collect_strings(r, a, s) && s->n >= 0) {
			snprintf(s->err, sizeof(s->err), "%s: out of memory", r->name);
			s->n = -1;
		}
		pthread_mutex_lock(&a->lock);
		a->tail++;
		pthread_cond_signal(&a->more);
		pthread_mutex_unlock(&a->lock);
		if (s->n <= 0)
			return NULL;
	}
}

static void ahead_free(struct trace_ahead *a)
{
	for (int i = 0; i < AHEAD_SLOTS; i++) {
		free(a->slot[i].ev);
		free(a->slot[i].strs);
	}
	strtab_free(&a->pub);
	free(a);
}

int trace_reader_ahead(struct trace_reader *r, size_t batch, trace_fold_fn *fold, uint64_t init)
{
	if (r->ahead || r->failed || r->done || r->count || !batch || !several_cpus())
		return 0;
	struct trace_ahead *a = calloc(1, sizeof(*a));
	if (!a)
		return 0;
	a->batch = batch;
	a->fold = fold;
	a->h = init;
	strtab_init(&a->pub);
	bool ok = true;
	for (int i = 0; i < AHEAD_SLOTS; i++)
		ok = (a->slot[i].ev = malloc(batch * sizeof(struct mm_event))) && ok;
	/* the consumer's copy starts with what the reader has now (the header's, a seek's) */
	for (uint32_t id = a->pub.count; ok && id < r->strings.count; id++)
		ok = strtab_intern(&a->pub, r->strings.str[id], r->strings.len[id]) == id;
	a->nr_sent = r->strings.count;
	if (!ok) {
		ahead_free(a);
		return 0;
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->more, NULL);
	pthread_cond_init(&a->room, NULL);
	r->ahead = a;
	if (pthread_create(&a->thread, NULL, ahead_main, r) != 0) {
		r->ahead = NULL;
		pthread_mutex_destroy(&a->lock);
		pthread_cond_destroy(&a->more);
		pthread_cond_destroy(&a->room);
		ahead_free(a);
		return 0;
	}
	return 1;
}

/* The thread, which waits only when every slot is full, is woken once half of them are
 * free (as the inflate thread is, tools/mmt.c). */
static void release_slot(struct trace_ahead *a)
{
	pthread_mutex_lock(&a->lock);
	a->head++;
	if (a->tail - a->head <= AHEAD_SLOTS / 2)
		pthread_cond_signal(&a->room);
	pthread_mutex_unlock(&a->lock);
	a->held = false;
}

static int publish_strings(struct trace_ahead *a, const struct ahead_slot *s)
{
	const uint8_t *p = s->strs;
	for (uint32_t i = 0; i < s->nr_strs; i++) {
		uint32_t len, id = a->pub.count;
		memcpy(&len, p, sizeof(len));
		if (strtab_intern(&a->pub, (const char *)p + sizeof(len), len) != id)
			return -1;
		p += sizeof(len) + len;
	}
	return 0;
}

ssize_t trace_reader_next_batch(struct trace_reader *r, const struct mm_event **batch, char *err,
				size_t errlen)
{
	struct trace_ahead *a = r->ahead;
	if (a->held)
		release_slot(a);
	struct ahead_slot *s = &a->slot[a->head % AHEAD_SLOTS];
	if (!a->ended) {
		pthread_mutex_lock(&a->lock);
		while (a->head == a->tail)
			pthread_cond_wait(&a->more, &a->lock);
		pthread_mutex_unlock(&a->lock);
		if (publish_strings(a, s) && s->n >= 0) {
			snprintf(s->err, sizeof(s->err), "%s: out of memory", r->name);
			s->n = -1;
		}
		a->ended = s->n <= 0;
		a->held = !a->ended;
	}
	if (s->n < 0)
		snprintf(err, errlen, "%s", s->err);
	*batch = s->ev;
	return s->n;
}

uint64_t trace_reader_fold(const struct trace_reader *r) { return r->ahead ? r->ahead->h : 0; }

const struct strtab *trace_ahead_strings(const struct trace_reader *r) { return &r->ahead->pub; }

void trace_ahead_stop(struct trace_reader *r)
{
	struct trace_ahead *a = r->ahead;
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_signal(&a->room);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->more);
	pthread_cond_destroy(&a->room);
	ahead_free(a);
	r->ahead = NULL;
}
