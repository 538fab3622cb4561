package library

import (
	"encoding/json"
	"fmt"
	"sort"
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
