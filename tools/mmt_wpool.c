/* Compressing .mmt event blocks on worker threads while the producer encodes the next ones
 * (bgzip -@ / pigz style). Blocks are independent, so they deflate in any order; they are
 * written in order by the producer's thread, which also fills in each block's file offset
 * in the index. The bytes are the same as with one thread. */
#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace_impl.h"

#define WP_SLOTS 8
#define WP_MAX_THREADS 4

enum { WP_FREE, WP_FILLING, WP_QUEUED, WP_BUSY, WP_DONE, WP_FAILED };

struct wp_slot {
	uint8_t *data; /* payload, MMT_BLOCK_MAX + MMT_SLACK */
	uint8_t *z;    /* the finished member, MMT_MEMBER_MAX */
	uint32_t len, zlen;
	size_t index_i;
	int state;
};

struct mmt_wpool {
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	pthread_t th[WP_MAX_THREADS];
	struct libdeflate_compressor *zc[WP_MAX_THREADS];
	int nth;
	bool stop;
	struct wp_slot slot[WP_SLOTS];
	/* block sequence numbers; block s lives in slot s % WP_SLOTS */
	uint64_t fill_seq, work_seq, write_seq;
};

struct worker_arg {
	struct mmt_wpool *p;
	int i;
};

static void *worker(void *arg)
{
	struct mmt_wpool *p = ((struct worker_arg *)arg)->p;
	int i = ((struct worker_arg *)arg)->i;
	free(arg);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && p->work_seq == p->fill_seq)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->work_seq == p->fill_seq)
			break; /* stopping, nothing queued */
		struct wp_slot *s = &p->slot[p->work_seq++ % WP_SLOTS];
		s->state = WP_BUSY;
		pthread_mutex_unlock(&p->lock);
		size_t z = mmt_build_member(p->zc[i], s->data, s->len, s->z);
		pthread_mutex_lock(&p->lock);
		s->zlen = (uint32_t)z;
		s->state = z ? WP_DONE : WP_FAILED;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void pool_stop(struct mmt_wpool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	p->nth = 0;
}

void mmt_wpool_free(struct mmt_wpool *p)
{
	if (!p)
		return;
	pool_stop(p);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	for (int i = 0; i < WP_MAX_THREADS; i++)
		if (p->zc[i])
			libdeflate_free_compressor(p->zc[i]);
	for (int i = 0; i < WP_SLOTS; i++) {
		free(p->slot[i].data);
		free(p->slot[i].z);
	}
	free(p);
}

struct mmt_wpool *mmt_wpool_new(int level)
{
	struct mmt_wpool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int want = cpus > 1 ? (int)(cpus - 1 < WP_MAX_THREADS ? cpus - 1 : WP_MAX_THREADS) : 1;
	bool ok = true;
	for (int i = 0; i < WP_SLOTS; i++) {
		p->slot[i].data = calloc(1, MMT_BLOCK_MAX + MMT_SLACK);
		p->slot[i].z = malloc(MMT_MEMBER_MAX);
		ok = ok && p->slot[i].data && p->slot[i].z;
	}
	for (int i = 0; ok && i < want; i++) {
		struct worker_arg *a = malloc(sizeof(*a));
		p->zc[i] = libdeflate_alloc_compressor(level);
		if (!a || !p->zc[i]) {
			free(a);
			ok = false;
			break;
		}
		*a = (struct worker_arg){p, i};
		if (pthread_create(&p->th[i], NULL, worker, a) != 0) {
			free(a);
			ok = false;
			break;
		}
		p->nth++;
	}
	if (!ok) {
		mmt_wpool_free(p);
		return NULL;
	}
	return p;
}

/* Called with the lock held: the producer deflates the next queued block itself (with the
 * writer's compressor, same level, so the same bytes) rather than sleep while the workers
 * catch up; on a 2-CPU machine (one worker) that is the difference between one and two
 * CPUs deflating. */
static void help_one(struct trace_writer *w, struct mmt_wpool *p)
{
	struct wp_slot *q = &p->slot[p->work_seq++ % WP_SLOTS];
	q->state = WP_BUSY;
	pthread_mutex_unlock(&p->lock);
	size_t z = mmt_build_member(w->zc, q->data, q->len, q->z);
	pthread_mutex_lock(&p->lock);
	q->zlen = (uint32_t)z;
	q->state = z ? WP_DONE : WP_FAILED;
	pthread_cond_broadcast(&p->done);
}

/* Writes the oldest submitted block, once it is compressed. */
static int write_oldest(struct trace_writer *w, char *err, size_t errlen)
{
	struct mmt_wpool *p = w->pool;
	struct wp_slot *s = &p->slot[p->write_seq % WP_SLOTS];
	pthread_mutex_lock(&p->lock);
	while (s->state != WP_DONE && s->state != WP_FAILED) {
		if (p->work_seq < p->fill_seq)
			help_one(w, p);
		else
			pthread_cond_wait(&p->done, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	int rc;
	if (s->state == WP_FAILED) {
		snprintf(err, errlen, "%s: deflate failed", w->path);
		rc = -1;
	} else {
		w->index[s->index_i].file_off = w->file_off;
		rc = mmt_write_bytes(w, s->z, s->zlen, err, errlen);
	}
	pthread_mutex_lock(&p->lock);
	s->state = WP_FREE;
	p->write_seq++;
	pthread_mutex_unlock(&p->lock);
	return rc;
}

/* Writes the finished blocks at the head of the file order, without waiting for others. */
static int write_finished(struct trace_writer *w, char *err, size_t errlen)
{
	struct mmt_wpool *p = w->pool;
	while (p->write_seq < p->fill_seq) {
		pthread_mutex_lock(&p->lock);
		int state = p->slot[p->write_seq % WP_SLOTS].state;
		pthread_mutex_unlock(&p->lock);
		if (state != WP_DONE && state != WP_FAILED)
			return 0;
		if (write_oldest(w, err, errlen))
			return -1;
	}
	return 0;
}

/* Before the producer fills the next block: while more blocks wait than the workers can
 * start next, it deflates one itself. Keeping a short queue, rather than helping only once
 * every slot is taken, means the producer rarely waits for the oldest block while a worker
 * finishes it, and the workers rarely find the queue empty: on 2 CPUs (one worker) both
 * stay busy until the end. Who deflates a block does not change its bytes. */
uint8_t *mmt_wpool_buffer(struct trace_writer *w, char *err, size_t errlen)
{
	struct mmt_wpool *p = w->pool;
	if (write_finished(w, err, errlen))
		return NULL;
	pthread_mutex_lock(&p->lock);
	while (p->fill_seq - p->work_seq > (uint64_t)p->nth + 1)
		help_one(w, p);
	pthread_mutex_unlock(&p->lock);
	if (write_finished(w, err, errlen))
		return NULL;
	if (p->fill_seq - p->write_seq == WP_SLOTS && write_oldest(w, err, errlen))
		return NULL;
	struct wp_slot *s = &p->slot[p->fill_seq % WP_SLOTS];
	s->state = WP_FILLING;
	return s->data;
}

void mmt_wpool_submit(struct trace_writer *w, uint32_t len, size_t index_i)
{
	struct mmt_wpool *p = w->pool;
	struct wp_slot *s = &p->slot[p->fill_seq % WP_SLOTS];
	pthread_mutex_lock(&p->lock);
	s->len = len;
	s->index_i = index_i;
	s->state = WP_QUEUED;
	p->fill_seq++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

int mmt_wpool_drain(struct trace_writer *w, char *err, size_t errlen)
{
	struct mmt_wpool *p = w->pool;
	int rc = 0;
	while (p->write_seq < p->fill_seq)
		if (write_oldest(w, err, errlen))
			rc = -1;
	return rc;
}

int mmt_wpool_set_level(struct mmt_wpool *p, int level)
{
	/* the caller drained the pool: no worker holds a compressor */
	for (int i = 0; i < p->nth; i++) {
		struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
		if (!c)
			return -1;
		pthread_mutex_lock(&p->lock);
		libdeflate_free_compressor(p->zc[i]);
		p->zc[i] = c;
		pthread_mutex_unlock(&p->lock);
	}
	return 0;
}
