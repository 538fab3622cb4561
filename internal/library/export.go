package library

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"ferry/internal/progress"
)

// Inventory describes what a library holds, for a courier to carry back so
// that the next card carries only what is missing. It names no keys, no
// times and no file paths.
type Inventory struct {
	Format   int                      `json:"format"`
	Type     string                   `json:"type"`
	Channels map[string]*ChannelState `json:"channels"`
	Archives []InventoryItem          `json:"archives"`
}

// InventoryItem is one archive of an inventory.
type InventoryItem struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	Edition uint64 `json:"edition"`
	Base    string `json:"base,omitempty"`
}

const inventoryType = "ferry-inventory"

// Inventory returns what the library holds.
func (l *Library) Inventory() *Inventory {
	inv := &Inventory{Format: 1, Type: inventoryType, Channels: map[string]*ChannelState{}, Archives: []InventoryItem{}}
	for name, c := range l.State.Channels {
		inv.Channels[name] = &ChannelState{Highest: c.Highest}
	}
	for _, r := range l.State.Archives {
		inv.Archives = append(inv.Archives, InventoryItem{ID: r.ID, Channel: r.Channel, Edition: r.Edition, Base: r.Base})
	}
	sort.Slice(inv.Archives, func(i, j int) bool { return inv.Archives[i].ID < inv.Archives[j].ID })
	return inv
}

// WriteInventory writes the library's inventory to path atomically.
func (l *Library) WriteInventory(path string) error {
	b, err := json.MarshalIndent(l.Inventory(), "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(b, '\n'))
}

// ParseInventory parses and checks an inventory file.
func ParseInventory(b []byte) (*Inventory, error) {
	var inv Inventory
	if err := json.Unmarshal(b, &inv); err != nil {
		return nil, fmt.Errorf("library: not an inventory: %w", err)
	}
	if inv.Type != inventoryType || inv.Format != 1 {
		return nil, fmt.Errorf("library: not a version 1 ferry inventory (type %q, format %d)", inv.Type, inv.Format)
	}
	if len(inv.Archives) > maxRecords {
		return nil, fmt.Errorf("library: inventory lists %d archives", len(inv.Archives))
	}
	for _, a := range inv.Archives {
		if !validID(a.ID) {
			return nil, fmt.Errorf("library: inventory has a bad archive id %q", a.ID)
		}
	}
	return &inv, nil
}

// ReadInventory reads an inventory file.
func ReadInventory(path string) (*Inventory, error) {
	b, err := readCapped(path, maxState)
	if err != nil {
		return nil, err
	}
	inv, err := ParseInventory(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return inv, nil
}

// ExportOptions tune Export.
type ExportOptions struct {
	// Channels limits the export to these channels (default: all).
	Channels []string
	// Since is the inventory of the library the card goes to: what it
	// already holds is not written.
	Since *Inventory
	Copy  CopyOptions
	Start func(r Record)
}

// ExportResult says what Export did.
type ExportResult struct {
	Written, Present []Record
	Bytes            int64
}

// Plan returns the archives a library with inventory have (nil: empty)
// lacks to present the newest edition of each selected channel: the
// current chain, or only its part after the newest archive of it that
// the other side holds.
func (l *Library) Plan(channels []string, have map[string]bool) ([]Record, error) {
	want := map[string]bool{}
	for _, c := range channels {
		if _, ok := l.State.Channels[c]; !ok {
			return nil, fmt.Errorf("%w: channel %q", ErrNotFound, c)
		}
		want[c] = true
	}
	var out []Record
	chains := bestChain(l.State.Archives)
	names := make([]string, 0, len(chains))
	for n := range chains {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if len(want) > 0 && !want[name] {
			continue
		}
		chain := chains[name]
		start := 0
		for i, r := range chain {
			if have[r.ID] {
				start = i + 1
			}
		}
		out = append(out, chain[start:]...)
	}
	return out, nil
}

// Export writes to the library folder dir (a card; made if missing) every
// archive it lacks for the newest edition of each selected channel, with
// the same copy protocol as Import, and records them in its state file.
// Trust is not exported: the reader of the card decides whom to trust.
func (l *Library) Export(ctx context.Context, dir string, opts ExportOptions) (*ExportResult, error) {
	dst, err := Load(dir, true)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	if opts.Since != nil {
		for _, a := range opts.Since.Archives {
			have[a.ID] = true
		}
	}
	for _, r := range dst.State.Archives {
		if st, err := os.Stat(dst.Path(r)); err == nil && st.Size() == r.Size {
			have[r.ID] = true
		}
	}
	plan, err := l.Plan(opts.Channels, have)
	if err != nil {
		return nil, err
	}
	res := &ExportResult{}
	var need int64
	for _, r := range plan {
		need += r.Size
		if st, err := os.Stat(filepath.Join(dir, ArchiveDir, "."+r.ID+partExt)); err == nil {
			need -= min(st.Size(), r.Size)
		}
	}
	if free, ok := freeSpaceOf(dir); ok && free < need {
		return nil, fmt.Errorf("%w on %s: %s to write, %s free: %s missing (choose fewer channels with --channel, or a bigger card)",
			ErrNoSpace, dir, progress.Bytes(need), progress.Bytes(free), progress.Bytes(need-free))
	}
	for _, r := range plan {
		if opts.Start != nil {
			opts.Start(r)
		}
		f, err := os.Open(l.Path(r))
		if err != nil {
			return res, err
		}
		_, present, err := CopyArchive(ctx, f, r.Size, r.ID, filepath.Join(dir, ArchiveDir), opts.Copy)
		f.Close()
		if err != nil {
			return res, fmt.Errorf("channel %s edition %d: %w", r.Channel, r.Edition, err)
		}
		dst.State.Archives = append(removeRecord(dst.State.Archives, r.ID), r)
		cs := dst.State.Channels[r.Channel]
		if cs == nil {
			cs = &ChannelState{}
			dst.State.Channels[r.Channel] = cs
		}
		cs.Highest = max(cs.Highest, r.Edition)
		if err := dst.Save(); err != nil {
			return res, err
		}
		if present {
			res.Present = append(res.Present, r)
		} else {
			res.Written = append(res.Written, r)
			res.Bytes += r.Size
		}
	}
	return res, nil
}
