package library

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/key"
)

// OpenOptions tune Open.
type OpenOptions struct {
	// AllowUntrusted serves channels whose archives are signed by keys the
	// library does not trust (they stay marked untrusted).
	AllowUntrusted bool
}

// Channel is one channel of an opened library.
type Channel struct {
	Name    string
	Title   string
	Edition uint64
	// Trusted says every archive of the served chain is signed by a
	// trusted, unrevoked key; Anchor names who vouches for it.
	Trusted bool
	Anchor  string
	// Signers are the keys of the newest archive, for the "trust this
	// publisher" offer; TrustCommand is the command that trusts the first.
	Signers      []key.Public
	TrustCommand string
	Reason       string // why it is untrusted or not served
	// View presents the newest edition (base + deltas); nil when the
	// channel is untrusted (without AllowUntrusted) or broken (Err).
	View *edition.View
	// Chain are the records of the served archives, full edition first.
	Chain []Record
	Err   error
}

// Opened is a library opened for reading. Close releases its files.
type Opened struct {
	Dir      string
	Channels []*Channel
	readers  []*archive.Reader
	files    []*os.File // indexes the library built
}

// Open opens the library in dir for reading, without writing anything:
// for each channel, the newest edition it can present from archives that
// open, are signed by trusted and unrevoked keys (or any key with
// AllowUntrusted), and form a complete chain. Channels with only untrusted
// archives are listed with their signers, a reason and the command that
// trusts them. Every byte read through a View is verified on use.
func Open(dir string, opts OpenOptions) (*Opened, error) {
	l, err := Load(dir, false)
	if err != nil {
		return nil, err
	}
	o := &Opened{Dir: dir}
	readers := map[string]*archive.Reader{}
	type info struct {
		trusted bool
		anchor  string
		reason  string
		signers []key.Public
		err     error
	}
	infos := map[string]*info{}
	byChannel := map[string][]Record{}
	for _, rec := range l.State.Archives {
		in := &info{}
		infos[rec.ID] = in
		r, err := archive.OpenFile(l.Path(rec))
		if err != nil {
			in.err = err
			byChannel[rec.Channel] = append(byChannel[rec.Channel], rec)
			continue
		}
		if r.ID() != rec.ID {
			r.Close()
			in.err = fmt.Errorf("%s: %w: file holds archive %s, not %s", rec.File, archive.ErrCorrupt, r.ID(), rec.ID)
			byChannel[rec.Channel] = append(byChannel[rec.Channel], rec)
			continue
		}
		// Channel, edition and base come from the signed manifest (the ID
		// is its hash), not from the state file, which anyone with the
		// card can edit.
		signed := recordOf(r)
		rec.Channel, rec.Edition, rec.Base = signed.Channel, signed.Edition, signed.Base
		byChannel[rec.Channel] = append(byChannel[rec.Channel], rec)
		o.readers = append(o.readers, r)
		readers[rec.ID] = r
		in.signers = r.Signers()
		d, err := l.Check(r, false)
		in.trusted, in.anchor = d.Trusted, d.Anchor
		var ue *UntrustedError
		switch {
		case errors.As(err, &ue):
			in.reason = ue.Error()
		case err != nil:
			in.err = err
		}
	}
	names := make([]string, 0, len(byChannel))
	for n := range byChannel {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		ch := &Channel{Name: name}
		o.Channels = append(o.Channels, ch)
		var usable, trusted []Record
		var firstErr error
		for _, rec := range byChannel[name] {
			in := infos[rec.ID]
			if in.err != nil {
				if firstErr == nil {
					firstErr = in.err
				}
				continue
			}
			usable = append(usable, rec)
			if in.trusted {
				trusted = append(trusted, rec)
			}
		}
		chain := bestChain(trusted)[name]
		if opts.AllowUntrusted {
			all := bestChain(usable)[name]
			if len(all) > 0 && (len(chain) == 0 || better(all, chain)) {
				chain = all
			}
		}
		if len(chain) == 0 {
			// Describe the newest untrusted chain so the reader can decide.
			ch.Err = firstErr
			if c := bestChain(usable)[name]; len(c) > 0 {
				top := infos[c[len(c)-1].ID]
				ch.Edition, ch.Signers, ch.Reason = c[len(c)-1].Edition, top.signers, top.reason
				ch.TrustCommand = trustCommand(dir, top.signers)
				ch.Title = readers[c[len(c)-1].ID].Manifest().Title
			} else if ch.Err == nil {
				ch.Err = fmt.Errorf("channel %s: no complete edition (a delta's base is missing)", name)
			}
			continue
		}
		ch.Chain = chain
		ch.Trusted = true
		var layers []*archive.Reader
		for _, rec := range chain {
			in := infos[rec.ID]
			ch.Trusted = ch.Trusted && in.trusted
			if in.trusted && ch.Anchor == "" {
				ch.Anchor = in.anchor
			}
			if !in.trusted && ch.Reason == "" {
				ch.Reason = in.reason
			}
			layers = append(layers, readers[rec.ID])
		}
		top := infos[chain[len(chain)-1].ID]
		ch.Signers = top.signers
		if !ch.Trusted {
			ch.TrustCommand = trustCommand(dir, top.signers)
		}
		ch.View, ch.Err = edition.Open(layers...)
		if ch.View != nil {
			o.useIndexes(l, ch.View, chain)
			m := ch.View.Manifest()
			ch.Title, ch.Edition = m.Title, m.Edition
			if cs := l.State.Channels[name]; cs != nil && cs.Highest > ch.Edition && ch.Reason == "" {
				ch.Reason = fmt.Sprintf("edition %d was seen but is missing or damaged; showing edition %d", cs.Highest, ch.Edition)
			}
		}
	}
	return o, nil
}

func trustCommand(dir string, signers []key.Public) string {
	if len(signers) == 0 {
		return ""
	}
	cmd := "ferry trust add " + signers[0].String()
	if dir != DefaultDir() {
		cmd += " --library " + dir
	}
	return cmd
}

// useIndexes gives the layers that arrived without a search index the one
// the library built for them, if it is there.
func (o *Opened) useIndexes(l *Library, v *edition.View, chain []Record) {
	for i, rec := range chain {
		if _, _, err := v.Layers()[i].SearchIndex(); !errors.Is(err, archive.ErrNoIndex) {
			continue
		}
		f, err := os.Open(l.indexPath(rec.ID))
		if err != nil {
			continue // none built: the layer is not searchable
		}
		st, err := f.Stat()
		if err == nil {
			err = v.UseIndex(i, f, st.Size())
		}
		if err != nil {
			f.Close()
			continue
		}
		o.files = append(o.files, f)
	}
}

// Channel returns the channel with this name, or nil.
func (o *Opened) Channel(name string) *Channel {
	for _, c := range o.Channels {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Close closes every archive file.
func (o *Opened) Close() error {
	var errs []error
	for _, r := range o.readers {
		errs = append(errs, r.Close())
	}
	for _, f := range o.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}
