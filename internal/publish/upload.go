package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"ferry/internal/atomicfile"
	"ferry/internal/key"
	"ferry/internal/progress"
	"ferry/internal/publish/index"
	"ferry/internal/store"
)

// readIndex reads the channel's index from the store: nil if there is none.
func (p *run) readIndex() (*index.Signed, string, error) {
	ix, etag, err := readIndex(p.ctx, p.st, p.ch.Name)
	if err != nil || ix == nil {
		return ix, etag, err
	}
	if !ix.SignedBy(p.secret.Public()) {
		return nil, "", fmt.Errorf("%w: %s in %s is signed by %s, this config's key is %s: two configs may share the channel name, or the key was changed (publish a new channel name instead)",
			ErrForeignIndex, index.IndexKey(p.ch.Name), p.st, ix.Signers[0].Fingerprint(), p.secret.Public().Fingerprint())
	}
	return ix, etag, nil
}

func readIndex(ctx context.Context, st store.Store, channel string) (*index.Signed, string, error) {
	b, info, err := getSmall(ctx, st, index.IndexKey(channel), index.MaxIndexSize)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading the channel index: %w", err)
	}
	ix, err := index.Parse(b)
	if err != nil {
		return nil, "", fmt.Errorf("%s in %s: %w", index.IndexKey(channel), st, err)
	}
	if ix.Channel != channel {
		return nil, "", fmt.Errorf("%s in %s is the index of channel %q", index.IndexKey(channel), st, ix.Channel)
	}
	return ix, info.ETag, nil
}

// getSmall reads a whole small object, at most limit bytes.
func getSmall(ctx context.Context, st store.Store, k string, limit int64) ([]byte, store.Info, error) {
	rc, info, err := st.Get(ctx, k)
	if err != nil {
		return nil, info, err
	}
	defer rc.Close()
	if info.Size > limit {
		return nil, info, fmt.Errorf("%s is %d bytes, more than the %d it may have", k, info.Size, limit)
	}
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, info, fmt.Errorf("reading %s: %w", k, err)
	}
	if int64(len(b)) > limit {
		return nil, info, fmt.Errorf("%s is more than the %d bytes it may have", k, limit)
	}
	return b, info, nil
}

// upload puts the edition's objects into the store, each created only if
// absent, and then the index that names them.
func (p *run) upload(cur *index.Signed, b *built) (err error) {
	var created []string
	indexUncertain := false
	defer func() {
		if err != nil {
			p.abandon(created, b, indexUncertain)
		}
	}()
	put := func(k, path string, size int64) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		cr := &progress.Reader{R: f, Report: func(n int64) {
			p.progress(Progress{Phase: "upload", Label: k, Done: n, Total: size})
		}}
		if _, err := p.st.Put(p.ctx, k, cr, size, store.Cond{IfNoneMatch: true}); err != nil {
			if errors.Is(err, store.ErrExists) {
				return fmt.Errorf("%w: it claimed edition %d (%s exists in %s); nothing of this run was published: run again", ErrConflict, b.edition, k, p.st)
			}
			return fmt.Errorf("uploading %s to %s: %w; nothing of this run was published", k, p.st, err)
		}
		created = append(created, k)
		p.res.Keys = append(p.res.Keys, k)
		// Remembered until the index names it, so that a crash before
		// then is cleaned up by the next run here.
		return p.addPending(k)
	}
	// The full edition first: creating it claims the number.
	if err := put(b.fullRef.Key, b.full, b.fullRef.Size); err != nil {
		return err
	}
	if b.deltaRef != nil {
		if err := put(b.deltaRef.Key, b.delta, b.deltaRef.Size); err != nil {
			return err
		}
	}
	for _, w := range b.warcs {
		if err := put(w.ref.Key, w.path, w.ref.Size); err != nil {
			return err
		}
	}
	// The index, in a read-modify-write loop: it changes only if it still
	// says what this edition was built on.
	var ix *index.Index
	for attempt := 0; ; attempt++ {
		if attempt == 20 {
			return fmt.Errorf("%w: the index of %s kept changing; run again", ErrConflict, p.ch.Name)
		}
		now, etag, err := readIndex(p.ctx, p.st, p.ch.Name)
		if err != nil {
			return err // indexUncertain stays as the last write left it
		}
		if now != nil {
			if a, _ := now.Find(b.fullRef.ID); a != nil {
				ix = now.Index // an earlier attempt landed, its answer lost
				break
			}
		}
		// Read after any lost write and not named: that write did not land.
		indexUncertain = false
		var latest uint64
		var tip string
		if now != nil {
			latest, tip = now.Latest, now.Tip
		}
		if latest != b.baseLatest || tip != b.baseTip {
			return fmt.Errorf("%w: edition %d was published while this run built edition %d on edition %d; nothing of this run is visible: run again",
				ErrConflict, latest, b.edition, b.baseLatest)
		}
		var base *index.Index
		if now != nil {
			base = now.Index
		}
		next := p.nextIndex(base, b)
		data, err := index.Sign(next, []*key.Secret{p.secret})
		if err != nil {
			return err
		}
		cond := store.Cond{IfNoneMatch: true}
		if now != nil {
			cond = store.Cond{IfMatch: etag}
		}
		_, err = p.st.Put(p.ctx, index.IndexKey(p.ch.Name), bytes.NewReader(data), int64(len(data)), cond)
		if err == nil {
			ix = next
			break
		}
		if errors.Is(err, store.ErrPreconditionFailed) {
			continue
		}
		// The write may have landed with its answer lost: read again.
		indexUncertain = true
		if p.ctx.Err() != nil {
			return err
		}
		select {
		case <-p.ctx.Done():
			return p.ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
	p.res.Keys = append(p.res.Keys, index.IndexKey(p.ch.Name))
	if err := p.updateCatalog(ix); err != nil {
		p.warn("edition %d is published, but the store's catalogue was not updated (%v); the next publish into this store updates it", b.edition, err)
	}
	return nil
}

// nextIndex is base (nil for none) with edition b added.
func (p *run) nextIndex(base *index.Index, b *built) *index.Index {
	ch := p.ch
	ix := &index.Index{}
	if base != nil {
		c := *base
		c.Editions = slices.Clone(base.Editions)
		ix = &c
	}
	ix.Channel, ix.Title, ix.Description, ix.Publisher = ch.Name, ch.Title, ch.Description, ch.Publisher
	ix.Languages = ch.Languages
	ix.Sequence++
	ix.Updated = p.opts.Now().UTC().Truncate(time.Second)
	ix.Latest, ix.Tip = b.edition, b.tip
	e := index.Edition{Edition: b.edition, Created: b.created.UTC(), Entries: b.entries, Articles: b.articles,
		Full: b.fullRef, Delta: b.deltaRef}
	for _, w := range b.warcs {
		e.WARC = append(e.WARC, w.ref)
	}
	ix.Editions = append(ix.Editions, e)
	// Manifests are kept for what a reader may fetch to reach the latest
	// edition: its archives and the chain of the tip.
	keep := map[string]bool{b.fullRef.ID: true}
	if b.deltaRef != nil {
		keep[b.deltaRef.ID] = true
	}
	for _, a := range ix.Chain(ix.Tip) {
		keep[a.ID] = true
	}
	for i := range ix.Editions {
		ed := &ix.Editions[i]
		if !keep[ed.Full.ID] {
			ed.Full.Manifest, ed.Full.Signatures = nil, nil
		}
		if ed.Delta != nil && !keep[ed.Delta.ID] {
			d := *ed.Delta
			d.Manifest, d.Signatures = nil, nil
			ed.Delta = &d
		}
	}
	return ix
}

// abandon removes what a failed upload created, unless the index may name
// it (an index write whose answer was lost): then the next run decides.
func (p *run) abandon(created []string, b *built, uncertain bool) {
	if len(created) == 0 {
		return
	}
	// Without the run's context: a cancelled run still cleans up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(p.ctx), time.Minute)
	defer cancel()
	if uncertain {
		now, _, err := readIndex(ctx, p.st, p.ch.Name)
		if err != nil {
			p.warn("could not tell whether the index names edition %d; the next run here will clean up %d objects if not", b.edition, len(created))
			return
		}
		if now != nil {
			if a, _ := now.Find(b.fullRef.ID); a != nil {
				return // it does: they stay
			}
		}
	}
	var left []string
	for _, k := range created {
		if err := p.st.Delete(ctx, k); err != nil {
			left = append(left, k)
			continue
		}
		p.dropPending(k)
	}
	if len(left) > 0 {
		p.warn("%d objects of the failed edition %d could not be removed yet (%s); readers never see them, and the next run here removes them",
			len(left), b.edition, strings.Join(left, ", "))
	}
}

// pending.json lists keys this machine created that no index named yet.
func (p *run) pendingPath() string { return filepath.Join(p.dir, "pending.json") }

func (p *run) loadPending() []string {
	b, err := os.ReadFile(p.pendingPath())
	if err != nil {
		return nil
	}
	var keys []string
	if json.Unmarshal(b, &keys) != nil {
		return nil
	}
	return keys
}

func (p *run) savePending(keys []string) error {
	if len(keys) == 0 {
		err := os.Remove(p.pendingPath())
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	b, _ := json.Marshal(keys)
	return atomicfile.WriteFile(p.pendingPath(), b, 0o644)
}

func (p *run) addPending(k string) error {
	return p.savePending(append(p.loadPending(), k))
}

func (p *run) dropPending(k string) {
	keys := p.loadPending()
	keys = slices.DeleteFunc(keys, func(s string) bool { return s == k })
	p.savePending(keys)
}

// cleanup removes objects an earlier run here created but no index names.
func (p *run) cleanup(cur *index.Signed) {
	keys := p.loadPending()
	if len(keys) == 0 {
		return
	}
	var left []string
	for _, k := range keys {
		if cur != nil {
			if _, ok := cur.Names(k); ok {
				continue
			}
		}
		if err := p.st.Delete(p.ctx, k); err != nil {
			left = append(left, k)
		}
	}
	if err := p.savePending(left); err != nil {
		p.warn("saving %s: %v", p.pendingPath(), err)
	}
}

// finish keeps the local copies the next run needs (the chain of the new
// tip) and removes the rest, and the WARCs now in the store.
func (p *run) finish(b *built) {
	dir := filepath.Join(p.dir, "archives")
	os.MkdirAll(dir, 0o755)
	os.Rename(b.full, filepath.Join(dir, b.fullRef.ID+".ferry"))
	if b.deltaRef != nil {
		os.Rename(b.delta, filepath.Join(dir, b.deltaRef.ID+".ferry"))
	}
	ix, _, err := readIndex(p.ctx, p.st, p.ch.Name)
	if err == nil && ix != nil {
		need := map[string]bool{}
		for _, a := range ix.Chain(ix.Tip) {
			need[a.ID+".ferry"] = true
		}
		if ents, err := os.ReadDir(dir); err == nil {
			for _, e := range ents {
				if !need[e.Name()] {
					os.Remove(filepath.Join(dir, e.Name()))
				}
			}
		}
	}
	for _, w := range b.warcs {
		os.Remove(w.path)
	}
	p.savePending(nil)
}
