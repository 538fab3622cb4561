// Package fountain implements the RaptorQ fountain code of RFC 6330, so a
// broadcast receiver can rebuild an object from any set of slightly more
// than K encoding symbols per source block, gathered in any order, from any
// broadcasts. docs/fountain.md describes the parameters, the OTI encoding
// and the decoder.
//
// The object API partitions an object into source blocks and sub-blocks
// (RFC 6330 section 4.4.1):
//
//	p, _ := fountain.NewParams(uint64(len(data)), 1024, 0)
//	enc, _ := fountain.NewEncoder(data, p)
//	enc.Symbol(sbn, esi, buf)     // send p.Encode() (12 bytes) once, then (sbn, esi, buf)
//
//	dec, _ := fountain.NewDecoder(p)   // p from fountain.DecodeParams
//	done, err := dec.Add(sbn, esi, buf)
//	obj, _ := dec.Bytes()          // once done
//
// BlockEncoder and BlockDecoder work on one source block of K symbols.
// Encoding symbols are byte-identical to those of any other RFC 6330
// implementation for the same parameters.
package fountain
