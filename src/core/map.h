/*
 * A string-keyed hash table (open addressing, FNV-1a), for the sets of
 * paths a build keeps.  Keys are copied; values are the caller's.
 */
#ifndef DD_MAP_H
#define DD_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dd_map_slot {
	char *key;
	uint64_t hash;
	void *val;
};

struct dd_map {
	struct dd_map_slot *slots;
	size_t cap, n;
};

#define DD_MAP_INIT \
	{ \
		NULL, 0, 0 \
	}

/* The value slot of key, or NULL when absent. */
void **dd_map_get(const struct dd_map *m, const char *key);
/* The value slot of key, inserted (holding NULL) when absent. */
void **dd_map_put(struct dd_map *m, const char *key);
/* Free the keys, and each value with free_val when given. */
void dd_map_release(struct dd_map *m, void (*free_val)(void *));

#endif
