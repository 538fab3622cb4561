package publish

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"ferry/internal/publish/index"
	"ferry/internal/publish/opds"
	"ferry/internal/store"
)

// updateCatalog puts the channel's new state into the store's channel list
// and OPDS catalogue. Both are shared by every channel of the store, so
// each is replaced only if unchanged since read (IfMatch), in a loop. The
// catalogue's version is read before the list it is made from: whoever
// writes the catalogue last has read a list that holds every update whose
// catalogue write came before, so the final catalogue misses none.
func (p *run) updateCatalog(ix *index.Index) error {
	for attempt := 0; attempt < 50; attempt++ {
		cat, err := p.st.Stat(p.ctx, index.CatalogKey)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		catETag := cat.ETag
		if errors.Is(err, store.ErrNotFound) {
			catETag = ""
		}
		list, listETag, err := readChannels(p, p.st)
		if err != nil {
			return err
		}
		entry := index.ChannelOf(ix)
		changed := false
		if old := list.Find(entry.Name); old == nil {
			list.Channels = append(list.Channels, entry)
			slices.SortFunc(list.Channels, func(a, b index.Channel) int { return strings.Compare(a.Name, b.Name) })
			changed = true
		} else if old.Sequence < entry.Sequence {
			*old = entry // a slower worker with an older index leaves a newer entry alone
			changed = true
		}
		now := p.opts.Now().UTC().Truncate(time.Second)
		if changed {
			list.Updated = now
			data, err := index.MarshalChannels(list)
			if err != nil {
				return err
			}
			cond := store.Cond{IfNoneMatch: true}
			if listETag != "" {
				cond = store.Cond{IfMatch: listETag}
			}
			if _, err := p.st.Put(p.ctx, index.ChannelsKey, bytes.NewReader(data), int64(len(data)), cond); err != nil {
				if errors.Is(err, store.ErrPreconditionFailed) {
					continue
				}
				return fmt.Errorf("writing %s: %w", index.ChannelsKey, err)
			}
		}
		feed := opds.Feed("", opds.Title, list.Channels, list.Updated)
		cond := store.Cond{IfNoneMatch: true}
		if catETag != "" {
			cond = store.Cond{IfMatch: catETag}
		}
		if _, err := p.st.Put(p.ctx, index.CatalogKey, bytes.NewReader(feed), int64(len(feed)), cond); err != nil {
			if errors.Is(err, store.ErrPreconditionFailed) {
				continue
			}
			return fmt.Errorf("writing %s: %w", index.CatalogKey, err)
		}
		return nil
	}
	return fmt.Errorf("%s kept changing under 50 attempts", index.ChannelsKey)
}

// readChannels reads the store's channel list and its ETag ("" if absent).
func readChannels(p *run, st store.Store) (*index.Channels, string, error) {
	b, info, err := getSmall(p.ctx, st, index.ChannelsKey, index.MaxChannelsSize)
	if errors.Is(err, store.ErrNotFound) {
		return &index.Channels{}, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	list, err := index.ParseChannels(b)
	if err != nil {
		return nil, "", fmt.Errorf("%s in %s: %w", index.ChannelsKey, st, err)
	}
	return list, info.ETag, nil
}
