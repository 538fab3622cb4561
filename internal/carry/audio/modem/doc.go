// Package modem is ferry's audio modem: it turns byte payloads into sound
// that survives a shortwave or AM broadcast heard through a loudspeaker
// and recorded on a phone, and turns any recording of it back into the
// payloads, as specified in docs/modem.md.
//
// The waveform is OFDM at 8 kHz: 31.25 Hz carrier spacing, 4 ms cyclic
// prefix, QPSK, a pilot row every sixth symbol, a rate-1/2 irregular
// repeat-accumulate LDPC code decoded by belief propagation, a random bit
// interleaver over the whole frame and a CRC-32C per frame. Three modes
// (Robust, Standard, Fast) trade width for speed. Each frame starts with a
// preamble that the Receiver finds anywhere in a recording, across
// ±150 Hz of mistuning and ±2.5% of recorder clock error, which it then
// tracks from the pilots.
//
// A Transmitter makes one frame per payload (Frame), continuous from one
// call to the next. A Receiver takes samples in chunks of any size (Write),
// returns each frame as soon as it is decoded, keeps only a few seconds of
// signal, and counts what it saw (Stats). A frame is either returned
// exactly as sent or dropped: the LDPC decoder must converge and the CRC,
// length and reserved bits must check. Neither type is safe for
// concurrent use.
package modem
