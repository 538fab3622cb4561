// Package broadcast carries ferry archives over one-way, lossy channels
// (satellite datacasting, UDP multicast, packet files passed around), as
// specified in docs/broadcast.md.
//
// A Sender cuts each archive into RaptorQ encoding symbols (package
// fountain) and frames them as packets, each with the archive's ID, its
// FEC parameters and a CRC-32C. Signed announcement packets, repeated in the
// stream, carry the archive's manifest and signature block so that a
// receiver knows what it collects and can check the rebuilt archive.
//
// A Receiver takes packets from any number of recordings or sockets, keeps
// every symbol in an append-only state file so collection resumes across
// runs, and writes an archive to the library once it decodes and verifies
// against the signed manifest. Forged symbols cannot make it accept wrong
// content: a rebuilt archive is kept only if archive.Verify passes and its
// ID matches the announcement; when it does not, the receiver separates the
// held symbols into mutually consistent sets and tries them (see
// docs/broadcast.md, "Forged symbols").
package broadcast
