package archive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// The members each object of the manifest may have, by where the object
// sits: "" is the manifest itself, "sections.*" any section descriptor.
// Objects not listed (extra and what it holds) are free.
var knownMembers = map[string][]string{
	"":           {"format", "channel", "edition", "title", "description", "languages", "created", "publisher", "main_page", "base", "counts", "mime_types", "file_size", "chunk_size", "data", "sections", "extra"},
	"base":       {"channel", "edition", "id"},
	"counts":     {"entries", "articles", "redirects", "clusters", "removed", "input_bytes"},
	"data":       {"offset", "length"},
	"sections.*": {"offset", "length", "block_size", "hashes_offset", "root"},
}

// ParseManifest reads signed manifest bytes as every reader must: by the
// strict rules of checkManifestJSON, then into a Manifest. A carrier that
// learns of an archive from its manifest alone (a broadcast announcement)
// decides on what archive.Open would later accept.
func ParseManifest(b []byte) (*Manifest, error) {
	if err := checkManifestJSON(b); err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// checkManifestJSON enforces what makes one signed manifest mean one thing
// to every reader: no object holds two members whose names are equal when
// case is ignored (Go's decoder would keep the last, case-insensitively,
// and another decoder the first), and a member of a known object is
// spelled exactly as the format names it (Go would take "Edition" for
// "edition"). The depth is bounded.
func checkManifestJSON(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var walk func(where string, depth int) error
	walk = func(where string, depth int) error {
		if depth > 32 {
			return fmt.Errorf("manifest nested deeper than 32 levels")
		}
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]string{}
			known := knownMembers[where]
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return err
				}
				name := kt.(string)
				folded := strings.ToLower(name)
				if other, dup := seen[folded]; dup {
					return fmt.Errorf("member %q appears twice (as %q and %q)", where+"."+name, other, name)
				}
				seen[folded] = name
				for _, k := range known {
					if strings.EqualFold(k, name) && k != name {
						return fmt.Errorf("member %q must be spelled %q", name, k)
					}
				}
				child := name
				switch {
				case where == "sections":
					child = "sections.*"
				case where != "":
					child = where + "." + name
				}
				if where == "extra" || strings.HasPrefix(where, "extra.") {
					child = "extra.*"
				}
				if err := walk(child, depth+1); err != nil {
					return err
				}
			}
			_, err = d.Token() // '}'
			return err
		case json.Delim('['):
			for d.More() {
				if err := walk(where+"[]", depth+1); err != nil {
					return err
				}
			}
			_, err = d.Token() // ']'
			return err
		}
		return nil
	}
	if err := walk("", 0); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return fmt.Errorf("data after the manifest object")
	}
	return nil
}
