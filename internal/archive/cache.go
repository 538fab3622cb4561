package archive

import (
	"container/list"
	"sync"
)

// cache is a byte-bounded LRU of verified blocks and decompressed clusters.
// Only verified bytes go in, so a hit needs no new check.
type cache struct {
	mu    sync.Mutex
	max   int
	used  int
	ll    *list.List
	items map[cacheKey]*list.Element
}

type cacheKey struct {
	owner uint64 // the Reader's id: readers may share a cache
	kind  int    // 0: cluster; 1+: section block (section id + 1)
	n     int64
}

type cacheItem struct {
	key cacheKey
	val []byte
}

func newCache(max int) *cache {
	return &cache{max: max, ll: list.New(), items: map[cacheKey]*list.Element{}}
}

func (c *cache) get(k cacheKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*cacheItem).val, true
	}
	return nil, false
}

func (c *cache) put(k cacheKey, v []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(v) > c.max/2 {
		return // too big to keep; the caller still has it
	}
	if e, ok := c.items[k]; ok {
		// A longer prefix of a cluster replaces the shorter one.
		it := e.Value.(*cacheItem)
		if len(v) > len(it.val) {
			c.used += len(v) - len(it.val)
			it.val = v
		}
		c.ll.MoveToFront(e)
		c.evict()
		return
	}
	c.items[k] = c.ll.PushFront(&cacheItem{k, v})
	c.used += len(v)
	c.evict()
}

// resize sets the cache's bound, evicting what no longer fits.
func (c *cache) resize(max int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.max = max
	c.evict()
}

// drop removes the items of one owner (a closed Reader).
func (c *cache) drop(owner uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.items {
		if k.owner == owner {
			c.ll.Remove(e)
			delete(c.items, k)
			c.used -= len(e.Value.(*cacheItem).val)
		}
	}
}

// evict drops the least recently used items until the cache fits.
func (c *cache) evict() {
	for c.used > c.max && c.ll.Len() > 0 {
		e := c.ll.Back()
		it := e.Value.(*cacheItem)
		c.ll.Remove(e)
		delete(c.items, it.key)
		c.used -= len(it.val)
	}
}
