package cpace

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cloudflare/circl/group"
)

// vectors reads testdata/ristretto255-sha512.txt (values from the draft).
func vectors(t testing.TB) map[string][]byte {
	t.Helper()
	f, err := os.Open("testdata/ristretto255-sha512.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, val, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("bad vector line %q", line)
		}
		b, err := hex.DecodeString(val)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		v[name] = b
	}
	if len(v) < 30 {
		t.Fatalf("only %d vectors read", len(v))
	}
	return v
}

func check(t *testing.T, name string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\n got %x\nwant %x", name, got, want)
	}
}

func TestStringUtilityVectors(t *testing.T) {
	v := vectors(t)
	check(t, "prepend_len(b'')", prependLen(nil), v["prepend_len_empty"])
	check(t, "prepend_len(b'1234')", prependLen([]byte("1234")), v["prepend_len_1234"])
	check(t, "lv_cat", lvCat([]byte("1234"), []byte("5"), nil, []byte("678")), v["lv_cat_1234_5_empty_678"])
	check(t, "o_cat(ABCD,BCD)", oCat([]byte("ABCD"), []byte("BCD")), v["o_cat_ABCD_BCD"])
	check(t, "o_cat(BCD,ABCDE)", oCat([]byte("BCD"), []byte("ABCDE")), v["o_cat_BCD_ABCDE"])
	a, b := lvCat([]byte("123"), []byte("PartyA")), lvCat([]byte("234"), []byte("PartyB"))
	check(t, "transcript_ir", append(append([]byte(nil), a...), b...), v["transcript_ir_123_PartyA_234_PartyB"])
	check(t, "transcript_oc", oCat(a, b), v["transcript_oc_123_PartyA_234_PartyB"])
	// 127 and 128 bytes: the LEB128 length grows to two bytes at 128.
	for _, n := range []int{127, 128, 300} {
		p := prependLen(make([]byte, n))
		got, k := readLEB128(p)
		if int(got) != n || len(p) != k+n {
			t.Errorf("prepend_len of %d bytes: read back %d in %d bytes", n, got, k)
		}
	}
}

func TestGeneratorVector(t *testing.T) {
	v := vectors(t)
	gs := generatorString([]byte(DSI), v["PRS"], v["CI"], v["sid"], hashBlock)
	check(t, "generator_string", gs, v["gen_str"])
	g, err := Generator(v["PRS"], v["CI"], v["sid"])
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := g.MarshalBinary()
	check(t, "g", enc, v["g"])
}

// TestProtocolVectors runs both parties with the draft's scalars and checks
// every intermediate value the draft publishes.
func TestProtocolVectors(t *testing.T) {
	v := vectors(t)
	a, err := newWithScalar(Initiator, v["PRS"], v["CI"], v["sid"], v["ADa"], v["ya"])
	if err != nil {
		t.Fatal(err)
	}
	b, err := newWithScalar(Responder, v["PRS"], v["CI"], v["sid"], v["ADb"], v["yb"])
	if err != nil {
		t.Fatal(err)
	}
	check(t, "message A", a.Message(), lvCat(v["Ya"], v["ADa"]))
	check(t, "message B", b.Message(), lvCat(v["Yb"], v["ADb"]))
	check(t, "transcript_ir", append(a.Message(), b.Message()...), v["transcript_ir"])
	check(t, "transcript_oc", oCat(a.Message(), b.Message()), v["transcript_oc"])

	K, ok := scalarMultVfy(scalar(t, v["ya"]), v["Yb"])
	if !ok {
		t.Fatal("scalar_mult_vfy(ya, Yb) failed")
	}
	check(t, "K", K, v["K"])
	K2, _ := scalarMultVfy(scalar(t, v["yb"]), v["Ya"])
	check(t, "K (responder)", K2, v["K"])
	check(t, "ISK input", append(lvCat([]byte(DSI+"_ISK"), v["sid"], K), v["transcript_ir"]...), v["isk_input_ir"])
	check(t, "ISK_SY", iskFrom(v["sid"], K, v["transcript_oc"]), v["ISK_SY"])

	iskA, adB, err := a.Finish(b.Message())
	if err != nil {
		t.Fatal(err)
	}
	iskB, adA, err := b.Finish(a.Message())
	if err != nil {
		t.Fatal(err)
	}
	check(t, "ISK_IR (initiator)", iskA, v["ISK_IR"])
	check(t, "ISK_IR (responder)", iskB, v["ISK_IR"])
	check(t, "ADb as received", adB, v["ADb"])
	check(t, "ADa as received", adA, v["ADa"])
	check(t, "sid_output_ir", SessionIDOutput(a.Message(), b.Message()), v["sid_output_ir"])
	h := SessionIDOutput(nil, v["transcript_oc"])
	check(t, "sid_output_oc", h, v["sid_output_oc"])
}

func scalar(t *testing.T, b []byte) group.Scalar {
	t.Helper()
	s := group.Ristretto255.NewScalar()
	if err := s.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScalarMultVfyVectors(t *testing.T) {
	v := vectors(t)
	s := scalar(t, v["valid_s"])
	got, ok := scalarMultVfy(s, v["valid_X"])
	if !ok {
		t.Fatal("valid point refused")
	}
	check(t, "scalar_mult_vfy(s, X)", got, v["valid_sX"])
	// Y_i1 is not a valid encoding; Y_i2 is the identity. Both must give G.I.
	for _, name := range []string{"invalid_Y1", "invalid_Y2"} {
		if _, ok := scalarMultVfy(s, v[name]); ok {
			t.Errorf("%s accepted", name)
		}
	}
}

// TestFinishRejects: a party MUST abort on the identity, on invalid
// encodings and on malformed messages.
func TestFinishRejects(t *testing.T) {
	v := vectors(t)
	var bad [][]byte
	bad = append(bad,
		lvCat(v["invalid_Y1"], nil),                // not an encoding of an element
		lvCat(v["invalid_Y2"], nil),                // the identity
		lvCat(bytes.Repeat([]byte{0xff}, 32), nil), // non-canonical field element
		nil,                            // empty
		[]byte{0x20},                   // truncated
		lvCat(v["Yb"][:31], nil),       // short Y
		append(lvCat(v["Yb"], nil), 0), // trailing byte
		append([]byte{0x20}, append(append([]byte(nil), v["Yb"]...), 0x80, 0x00)...), // non-minimal AD length
		append([]byte{0x20}, append(append([]byte(nil), v["Yb"]...), 0x05, 'a')...),  // AD shorter than claimed
	)
	// A negative s (low bit set) is invalid in ristretto255.
	neg := append([]byte(nil), v["Yb"]...)
	neg[0] |= 1
	bad = append(bad, lvCat(neg, nil))
	for i, m := range bad {
		p, err := New(Initiator, []byte("123456"), nil, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := p.Finish(m); !errors.Is(err, ErrInvalidPeer) {
			t.Errorf("case %d (%x): err = %v, want ErrInvalidPeer", i, m, err)
		}
		if _, _, err := p.Finish(m); !errors.Is(err, ErrFinished) {
			t.Errorf("case %d: second Finish: %v", i, err)
		}
	}
}

// TestRandomRuns: same inputs agree, any differing input disagrees.
func TestRandomRuns(t *testing.T) {
	run := func(prsA, prsB, ciA, ciB, sidA, sidB []byte) (ka, kb []byte) {
		a, err := New(Initiator, prsA, ciA, sidA, []byte("a"), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(Responder, prsB, ciB, sidB, []byte("b"), nil)
		if err != nil {
			t.Fatal(err)
		}
		ka, _, err = a.Finish(b.Message())
		if err != nil {
			t.Fatal(err)
		}
		kb, _, err = b.Finish(a.Message())
		if err != nil {
			t.Fatal(err)
		}
		return ka, kb
	}
	p, q := []byte("12345678"), []byte("12345679")
	ci, sid := []byte("ferry"), []byte("s")
	if ka, kb := run(p, p, ci, ci, sid, sid); !bytes.Equal(ka, kb) || len(ka) != ISKSize {
		t.Fatal("same inputs gave different keys")
	}
	cases := [][6][]byte{
		{p, q, ci, ci, sid, sid},
		{p, p, ci, []byte("other"), sid, sid},
		{p, p, ci, ci, sid, []byte("t")},
	}
	for i, c := range cases {
		if ka, kb := run(c[0], c[1], c[2], c[3], c[4], c[5]); bytes.Equal(ka, kb) {
			t.Errorf("case %d: differing inputs gave the same key", i)
		}
	}
	// Two runs with the same inputs give different keys (fresh scalars).
	k1, _ := run(p, p, ci, ci, sid, sid)
	k2, _ := run(p, p, ci, ci, sid, sid)
	if bytes.Equal(k1, k2) {
		t.Error("two runs gave the same key")
	}
}

func TestInputLimits(t *testing.T) {
	if _, err := New(Initiator, make([]byte, MaxInputLen+1), nil, nil, nil, nil); !errors.Is(err, ErrInput) {
		t.Errorf("long PRS: %v", err)
	}
	if _, err := New(Initiator, nil, nil, nil, make([]byte, MaxADLen+1), nil); !errors.Is(err, ErrInput) {
		t.Errorf("long AD: %v", err)
	}
	// The largest AD is accepted and parsed back.
	p, err := New(Initiator, []byte("1"), nil, nil, make([]byte, MaxADLen), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ad, err := ParseMessage(p.Message()); err != nil || len(ad) != MaxADLen {
		t.Errorf("max AD: %d bytes, %v", len(ad), err)
	}
}

func FuzzParseMessage(f *testing.F) {
	v := vectors(f)
	f.Add(lvCat(v["Ya"], v["ADa"]))
	f.Add(lvCat(v["invalid_Y1"], nil))
	f.Add([]byte{0x20})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, m []byte) {
		Y, ad, err := ParseMessage(m)
		if err != nil {
			return
		}
		// Canonical only: a parsed message re-encodes to exactly its input.
		if !bytes.Equal(lvCat(Y, ad), m) {
			t.Fatalf("%x parsed but re-encodes as %x", m, lvCat(Y, ad))
		}
		p, err := newWithScalar(Responder, []byte("1"), nil, nil, nil, v["yb"])
		if err != nil {
			t.Fatal(err)
		}
		_, _, _ = p.Finish(m) // must not panic
	})
}
