// Package peer is the device-to-device carrier behind 'ferry sync': two
// libraries that meet exchange, in both directions and over one encrypted
// connection, the archives the other lacks, as specified in docs/sync.md.
//
// A session runs over a paired channel (package channel: a one-time code
// and CPace for strangers, Noise IK for remembered peers). Each side offers
// the trusted editions of its chosen channels; the offers are reconciled
// with rateless IBLTs (package riblt), so neither sends its list. For each
// archive it lacks and its library would keep (library.Wants), the taker
// builds the archive's exact file piece by piece in a partial file inside
// the library's sync folder: clusters and sections it already holds in any
// archive are copied locally by their hashes; for a new full edition of a
// channel it holds, the entries of both editions are reconciled and each
// cluster is rebuilt from the entries already here plus the missing ones
// the giver sends, compressed again as the packer does; everything else
// is fetched. Every piece is checked against a hash the publisher's signed
// manifest covers before it is written, so the finished file is the signed
// archive byte for byte; it then enters the library through library.Add,
// like any carrier's arrival. A cut connection loses at most a frame: the
// next session, with this peer or another, continues the partial file.
//
// Listen and Dial run sessions for a command or a web page (Listener gives
// the pairing text and QR code to show); the package never prints, it
// reports through Options.Progress and a Summary.
package peer
