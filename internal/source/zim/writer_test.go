package zim_test

import (
	"bytes"
	"cmp"
	"crypto/md5"
	"encoding/binary"
	"slices"
	"testing"
)

// zimSpec describes a ZIM file for writeZIM, the test writer that makes
// the package's own test vectors (testdata/*.zim) and the damaged and
// hostile variants built on the fly. It follows docs/zim.md: header, MIME
// list, clusters, directory entries, then the pointer lists and the MD5.
// Its output depends only on the spec (fixed UUID, no clock).
type zimSpec struct {
	major, minor uint16
	mimes        []string
	entries      []testEntry
	clusters     []testCluster
	// titleList writes the header's title pointer list (all entries by
	// namespace and title); listings adds X/listing/titleOrdered/v0 (all
	// entries) and v1 (C/ HTML content entries) in a plain cluster.
	titleList, listings bool
	// main is the full path of the header's main page ("" for W/mainPage
	// when there is one, else none).
	main string
	// noMIMEEnd leaves out the empty string that ends the MIME list.
	noMIMEEnd bool
}

// htmlMIME is the MIME index writeZIM takes for front articles: the first
// type in the list starting with text/html.
func htmlMIME(mimes []string) int {
	for i, m := range mimes {
		if len(m) >= 9 && m[:9] == "text/html" {
			return i
		}
	}
	return -1
}

func writeZIM(t testing.TB, spec zimSpec) []byte {
	t.Helper()
	entries := slices.Clone(spec.entries)
	clusters := slices.Clone(spec.clusters)
	if spec.listings {
		entries = append(entries,
			testEntry{ns: 'X', url: "listing/titleOrdered/v0", mime: 0, cluster: uint32(len(clusters)), blob: 0},
			testEntry{ns: 'X', url: "listing/titleOrdered/v1", mime: 0, cluster: uint32(len(clusters)), blob: 1})
	}
	slices.SortFunc(entries, func(x, y testEntry) int {
		return cmp.Or(cmp.Compare(x.ns, y.ns), cmp.Compare(x.url, y.url))
	})
	index := map[string]uint32{}
	for i, e := range entries {
		index[string(e.ns)+"/"+e.url] = uint32(i)
	}
	le := binary.LittleEndian
	// Title order: by namespace, then title (the URL when it has none).
	byTitle := make([]uint32, len(entries))
	for i := range byTitle {
		byTitle[i] = uint32(i)
	}
	title := func(e testEntry) string { return cmp.Or(e.title, e.url) }
	slices.SortStableFunc(byTitle, func(i, j uint32) int {
		return cmp.Or(cmp.Compare(entries[i].ns, entries[j].ns), cmp.Compare(title(entries[i]), title(entries[j])))
	})
	if spec.listings {
		var v0, v1 []byte
		hm := htmlMIME(spec.mimes)
		for _, i := range byTitle {
			v0 = le.AppendUint32(v0, i)
			if e := entries[i]; e.ns == 'C' && e.redirect == "" && int(e.mime) == hm {
				v1 = le.AppendUint32(v1, i)
			}
		}
		clusters = append(clusters, testCluster{info: 1, blobs: [][]byte{v0, v1}})
	}
	out := make([]byte, 80)
	mimePos := len(out)
	for _, m := range spec.mimes {
		out = append(out, m...)
		out = append(out, 0)
	}
	if !spec.noMIMEEnd {
		out = append(out, 0)
	}
	var clusterPtrs []uint64
	for _, c := range clusters {
		clusterPtrs = append(clusterPtrs, uint64(len(out)))
		width := 4
		if c.info&0x10 != 0 {
			width = 8
		}
		var body []byte
		off := uint64(width * (len(c.blobs) + 1))
		for i := 0; i <= len(c.blobs); i++ {
			if width == 8 {
				body = le.AppendUint64(body, off)
			} else {
				body = le.AppendUint32(body, uint32(off))
			}
			if i < len(c.blobs) {
				off += uint64(len(c.blobs[i]))
			}
		}
		for _, b := range c.blobs {
			body = append(body, b...)
		}
		out = append(out, c.info)
		out = append(out, compress(t, c.info&0x0f, body)...)
	}
	var direntPtrs []uint64
	for _, e := range entries {
		direntPtrs = append(direntPtrs, uint64(len(out)))
		if e.redirect != "" {
			out = le.AppendUint16(out, 0xffff)
			out = append(out, 0, e.ns)
			out = le.AppendUint32(out, 0)
			target, ok := index[e.redirect]
			if !ok {
				t.Fatalf("redirect target %s missing", e.redirect)
			}
			out = le.AppendUint32(out, target)
		} else {
			out = le.AppendUint16(out, e.mime)
			out = append(out, 0, e.ns)
			out = le.AppendUint32(out, 0)
			out = le.AppendUint32(out, e.cluster)
			out = le.AppendUint32(out, e.blob)
		}
		out = append(out, e.url...)
		out = append(out, 0)
		out = append(out, e.title...)
		out = append(out, 0)
	}
	pathPtrPos := len(out)
	for _, p := range direntPtrs {
		out = le.AppendUint64(out, p)
	}
	titlePtrPos := uint64(0xffffffffffffffff)
	if spec.titleList {
		titlePtrPos = uint64(len(out))
		for _, i := range byTitle {
			out = le.AppendUint32(out, i)
		}
	}
	clusterPtrPos := len(out)
	for _, p := range clusterPtrs {
		out = le.AppendUint64(out, p)
	}
	checksumPos := len(out)
	le.PutUint32(out[0:], 72173914)
	le.PutUint16(out[4:], spec.major)
	le.PutUint16(out[6:], spec.minor)
	copy(out[8:24], bytes.Repeat([]byte{0xfe, 0x77}, 8)) // fixed UUID: deterministic files
	le.PutUint32(out[24:], uint32(len(entries)))
	le.PutUint32(out[28:], uint32(len(clusters)))
	le.PutUint64(out[32:], uint64(pathPtrPos))
	le.PutUint64(out[40:], titlePtrPos)
	le.PutUint64(out[48:], uint64(clusterPtrPos))
	le.PutUint64(out[56:], uint64(mimePos))
	main := uint32(0xffffffff)
	if spec.main != "" {
		i, ok := index[spec.main]
		if !ok {
			t.Fatalf("main page %s missing", spec.main)
		}
		main = i
	} else if i, ok := index["W/mainPage"]; ok {
		main = i
	}
	le.PutUint32(out[64:], main)
	le.PutUint32(out[68:], 0xffffffff)
	le.PutUint64(out[72:], uint64(checksumPos))
	sum := md5.Sum(out)
	return append(out, sum[:]...)
}
