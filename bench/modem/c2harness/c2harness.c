/*
 * c2harness: a small driver for codec2's FreeDV raw data modes (DATAC0,
 * DATAC1, DATAC3), used by bench/modem to compare them with ferry's modem
 * through the same simulated channels. It is built by build.sh against
 * Debian's libcodec2-dev and is never linked into ferry (codec2 is LGPL).
 *
 *   c2harness info MODE
 *   c2harness tx MODE NFRAMES SEED OUT.raw
 *   c2harness rx MODE NFRAMES SEED IN.raw
 *
 * Samples are signed 16-bit little-endian mono at 8000 Hz. tx writes
 * NFRAMES single-frame bursts (preamble, frame, postamble, then the silence
 * codec2's own freedv_data_raw_tx leaves between bursts). Frame i carries
 * payload bytes from a SplitMix64 generator seeded with SEED+i and codec2's
 * CRC-16 in its last two bytes. rx prints how many frames came out and how
 * many equal one of the NFRAMES payloads that tx sent.
 */
#include <codec2/freedv_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static void payload(uint8_t *b, int n, uint64_t seed) {
  uint64_t s = seed;
  for (int i = 0; i < n; i++) b[i] = (uint8_t)(splitmix(&s) >> 56);
}

static int mode_of(const char *name) {
  if (!strcmp(name, "datac0")) return FREEDV_MODE_DATAC0;
  if (!strcmp(name, "datac1")) return FREEDV_MODE_DATAC1;
  if (!strcmp(name, "datac3")) return FREEDV_MODE_DATAC3;
  fprintf(stderr, "c2harness: unknown mode %s (datac0, datac1, datac3)\n", name);
  exit(2);
}

static void put(FILE *f, short *s, int n) {
  if (fwrite(s, sizeof(short), n, f) != (size_t)n) {
    perror("c2harness: write");
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: c2harness info|tx|rx MODE [NFRAMES SEED FILE]\n");
    return 2;
  }
  struct freedv *fdv = freedv_open(mode_of(argv[2]));
  if (!fdv) {
    fprintf(stderr, "c2harness: freedv_open failed\n");
    return 1;
  }
  int nbytes = freedv_get_bits_per_modem_frame(fdv) / 8;
  int npay = nbytes - 2;
  int ntx = freedv_get_n_tx_modem_samples(fdv);
  int npre = freedv_get_n_tx_preamble_modem_samples(fdv);
  int npost = freedv_get_n_tx_postamble_modem_samples(fdv);
  int nsil = 2 * freedv_get_n_nom_modem_samples(fdv);
  if (!strcmp(argv[1], "info")) {
    /* one line: payload bytes, samples of preamble, frame, postamble, gap */
    printf("%d %d %d %d %d\n", npay, npre, ntx, npost, nsil);
    return 0;
  }
  if (argc != 6) {
    fprintf(stderr, "usage: c2harness tx|rx MODE NFRAMES SEED FILE\n");
    return 2;
  }
  int nframes = atoi(argv[3]);
  uint64_t seed = strtoull(argv[4], NULL, 10);
  uint8_t *sent = calloc((size_t)nframes, (size_t)npay);
  for (int i = 0; i < nframes; i++) payload(sent + (size_t)i * npay, npay, seed + (uint64_t)i);

  if (!strcmp(argv[1], "tx")) {
    FILE *f = fopen(argv[5], "wb");
    if (!f) {
      perror("c2harness: open output");
      return 1;
    }
    int nmax = ntx;
    if (npre > nmax) nmax = npre;
    if (npost > nmax) nmax = npost;
    if (nsil > nmax) nmax = nsil;
    short *buf = calloc((size_t)nmax, sizeof(short));
    uint8_t frame[nbytes];
    memset(buf, 0, sizeof(short) * (size_t)nmax);
    put(f, buf, nsil);
    for (int i = 0; i < nframes; i++) {
      memcpy(frame, sent + (size_t)i * npay, (size_t)npay);
      uint16_t crc = freedv_gen_crc16(frame, npay);
      frame[npay] = crc >> 8;
      frame[npay + 1] = crc & 0xff;
      int n = freedv_rawdatapreambletx(fdv, buf);
      put(f, buf, n);
      freedv_rawdatatx(fdv, buf, frame);
      put(f, buf, ntx);
      n = freedv_rawdatapostambletx(fdv, buf);
      put(f, buf, n);
      memset(buf, 0, sizeof(short) * (size_t)nmax);
      put(f, buf, nsil);
    }
    fclose(f);
    return 0;
  }

  if (!strcmp(argv[1], "rx")) {
    FILE *f = fopen(argv[5], "rb");
    if (!f) {
      perror("c2harness: open input");
      return 1;
    }
    freedv_set_frames_per_burst(fdv, 1);
    short *in = calloc((size_t)freedv_get_n_max_modem_samples(fdv), sizeof(short));
    uint8_t out[nbytes];
    char *seen = calloc((size_t)nframes, 1);
    int got = 0, good = 0, last = 0;
    int nin = freedv_nin(fdv);
    while (fread(in, sizeof(short), (size_t)nin, f) == (size_t)nin) {
      int n = freedv_rawdatarx(fdv, out, in);
      nin = freedv_nin(fdv);
      if (n <= 0) continue;
      got++;
      /* frames come in order: search from the last match on */
      for (int k = 0; k < nframes; k++) {
        int i = (last + k) % nframes;
        if (!seen[i] && !memcmp(out, sent + (size_t)i * npay, (size_t)npay)) {
          seen[i] = 1;
          good++;
          last = i;
          break;
        }
      }
    }
    fclose(f);
    printf("%d %d\n", got, good);
    return 0;
  }
  fprintf(stderr, "c2harness: unknown command %s\n", argv[1]);
  return 2;
}
