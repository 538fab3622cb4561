// Package card is the folder carrier: a USB stick, an SD card or any
// folder that carries archives from one library to another. A card is a
// library folder of its own (docs/library.md): archives/ and a state file,
// so a reader can serve it where it is or import it. Export writes to a
// card what the receiving library lacks — judged by the card's own
// holdings and by an inventory the courier brought back — and Import hands
// a card's archives to the receiving library's one door, library.Add.
package card

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"ferry/internal/atomicfile"
	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/release"
)

// Find expands import arguments: an archive file, or a folder whose
// *.ferry files (directly inside or in its archives/ folder) are taken.
func Find(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		for _, pat := range []string{filepath.Join(a, "*.ferry"), filepath.Join(a, library.ArchiveDir, "*.ferry")} {
			m, err := filepath.Glob(pat)
			if err != nil {
				return nil, err
			}
			found = append(found, m...)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no *.ferry archives in this folder", a)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// ProgramsDir is where a card (and a library) keeps ferry's programs for
// other devices, with their signed checksum list (package release).
const ProgramsDir = "programs"

// Imported says what Import did: the archives (library.Add's result) and
// the programs of a card, if it carried any.
type Imported struct {
	*library.AddResult
	// Programs are the program files copied into the library's programs
	// folder, checked against a list signed by a key the library trusts.
	Programs []string
	// ProgramsErr says why a card's programs were not copied (a list that
	// does not verify, an unknown signer): the archives are imported all
	// the same.
	ProgramsErr error
}

// Import adds the archives of cards and files (see Find) to l through
// library.Add: trust, rollback rules and verified copies apply. A card
// folder that carries programs (ProgramsDir) has them checked against
// their signed list and, when a key l trusts signed it, copied into l's
// programs folder, so the reader can pass them on.
func Import(ctx context.Context, l *library.Library, args []string, opts library.AddOptions) (*Imported, error) {
	paths, err := Find(args)
	if err != nil {
		return nil, err
	}
	res, err := l.AddFiles(ctx, paths, opts)
	out := &Imported{AddResult: res}
	for _, a := range args {
		src := filepath.Join(a, ProgramsDir)
		if _, serr := os.Stat(filepath.Join(src, release.ListFile)); serr != nil {
			continue
		}
		v, perr := release.Copy(src, filepath.Join(l.Dir, ProgramsDir), Trusts(l))
		if perr != nil {
			out.ProgramsErr = perr
			continue
		}
		out.Programs = v.Files
	}
	return out, err
}

// Trusts says whether the library trusts these keys as a publisher (for
// signed program lists): directly, or certified by a trusted root in the
// statements the list carries.
func Trusts(l *library.Library) release.Trusted {
	return func(ks []key.Public, extra map[string]json.RawMessage) bool {
		d, err := l.State.Trust.Check(ks, extra)
		return err == nil && d.Trusted
	}
}

// WriteInventory writes the library's inventory to path atomically.
func WriteInventory(l *library.Library, path string) error {
	b, err := json.MarshalIndent(l.Inventory(), "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadInventory reads an inventory file (at most 64 MiB).
func ReadInventory(path string) (*library.Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > 64<<20 {
		return nil, fmt.Errorf("%s: %d bytes is too large for an inventory", path, st.Size())
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && st.Size() > 0 {
		return nil, err
	}
	inv, err := library.ParseInventory(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return inv, nil
}
