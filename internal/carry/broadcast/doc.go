// Package broadcast carries ferry archives over one-way, lossy channels
// (satellite datacasting, UDP multicast, packet files passed around), as
// specified in docs/broadcast.md.
//
// Send cuts each archive into RaptorQ encoding symbols (package fountain)
// and frames them as packets, each with the archive's ID, its FEC
// parameters, the broadcaster's Ed25519 signature and a CRC-32C.
// Announcement packets, repeated in the stream, carry the archive's manifest
// and publisher signature block so that a receiver knows what it collects
// and can check the rebuilt archive.
//
// A Receiver takes packets from any number of recordings or sockets, keeps
// every symbol in an append-only state file so collection resumes across
// runs, and writes an archive to the library once it decodes and verifies
// against the signed manifest. Symbols are kept apart by broadcaster key,
// so injected packets cannot mix with genuine ones; a rebuilt archive is
// kept only if archive.Verify passes and its ID matches the announcement,
// and a key whose symbols decode to anything else is dropped (see
// docs/broadcast.md, "Threat model").
package broadcast
