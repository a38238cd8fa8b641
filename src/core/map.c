#include "core/map.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct dd_map_slot *find(const struct dd_map *m, const char *key, uint64_t h)
{
	size_t i = h & (m->cap - 1);

	for (;; i = (i + 1) & (m->cap - 1)) {
		struct dd_map_slot *s = &m->slots[i];

		if (!s->key || (s->hash == h && !strcmp(s->key, key)))
			return s;
	}
}

void **dd_map_get(const struct dd_map *m, const char *key)
{
	struct dd_map_slot *s;

	if (!m->cap)
		return NULL;
	s = find(m, key, hash(key));
	return s->key ? &s->val : NULL;
}

static void grow(struct dd_map *m)
{
	struct dd_map old = *m;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->slots = dd_xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*find(m, old.slots[i].key, old.slots[i].hash) = old.slots[i];
	free(old.slots);
}

void **dd_map_put(struct dd_map *m, const char *key)
{
	uint64_t h = hash(key);
	struct dd_map_slot *s;

	if ((m->n + 1) * 4 > m->cap * 3)
		grow(m);
	s = find(m, key, h);
	if (!s->key) {
		s->key = dd_xstrdup(key);
		s->hash = h;
		s->val = NULL;
		m->n++;
	}
	return &s->val;
}

void dd_map_release(struct dd_map *m, void (*free_val)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slots[i].key)
			continue;
		free(m->slots[i].key);
		if (free_val)
			free_val(m->slots[i].val);
	}
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}
