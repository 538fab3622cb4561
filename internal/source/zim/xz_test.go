package zim

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/ulikunitz/xz"
)

// TestXZContainer: the own xz container parser handles several blocks
// (with their padding) and every check type, as other xz writers make them.
func TestXZContainer(t *testing.T) {
	var blobs [][]byte
	for i := 0; i < 3; i++ {
		var b bytes.Buffer
		for j := 0; b.Len() < 50000; j++ {
			fmt.Fprintf(&b, "<p>paragraph %d of blob %d, with some text that repeats.</p>\n", j, i)
		}
		blobs = append(blobs, b.Bytes())
	}
	body := binary.LittleEndian.AppendUint32(nil, 16)
	off := uint32(16)
	for _, b := range blobs {
		off += uint32(len(b))
		body = binary.LittleEndian.AppendUint32(body, off)
	}
	for _, b := range blobs {
		body = append(body, b...)
	}
	for _, tc := range []struct {
		name string
		cfg  xz.WriterConfig
	}{
		{"one block, CRC64", xz.WriterConfig{}},
		{"many blocks, CRC32", xz.WriterConfig{BlockSize: 7000, CheckSum: xz.CRC32}},
		{"many blocks, SHA-256", xz.WriterConfig{BlockSize: 10001, CheckSum: xz.SHA256}},
		{"many blocks, no check", xz.WriterConfig{BlockSize: 4096, NoCheckSum: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			buf.WriteByte(compXZ)
			w, err := tc.cfg.NewWriter(&buf)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(body)
			w.Close()
			b := buf.Bytes()
			a := &Archive{opts: Options{MaxClusterSize: 1 << 20}}
			c, err := a.decodeCluster(bytes.NewReader(b), 0, int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range blobs {
				got, err := c.blob(uint32(i))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("blob %d differs: %v", i, err)
				}
			}
		})
	}
}
