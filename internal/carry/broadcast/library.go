package broadcast

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"ferry/internal/key"
	"ferry/internal/library"
)

// IntoLibrary returns the Want and Deliver options that make a Receiver
// end in the library in dir, through its one door: only archives the
// library would keep are collected (library.Wants), and each one that
// decodes is handed to library.AddTo (trust, rollback rules, a verified
// copy, the state file). only, if not empty, further limits collection to
// archives signed by one of these keys. The library's state is read
// afresh for each decision, so a receiver that runs for days sees trust
// changed and imports done meanwhile.
func IntoLibrary(ctx context.Context, dir string, only []key.Public, log func(string)) (want func(*Announcement) error, deliver func(*Announcement, []byte) (string, error)) {
	want = func(a *Announcement) error {
		if len(only) > 0 && !signedByAny(a, only) {
			return fmt.Errorf("signed by %s, not a key given with --trust", a.Signers[0].Fingerprint())
		}
		l, err := library.Load(dir, true)
		if err != nil {
			return err
		}
		return l.Wants(hex.EncodeToString(a.ID[:]), a.Info, a.Signers, false)
	}
	deliver = func(a *Announcement, data []byte) (string, error) {
		res, err := library.AddTo(ctx, dir, []library.Arrival{{From: "broadcast", R: bytes.NewReader(data), Size: int64(len(data))}}, library.AddOptions{})
		var ae *library.AddError
		switch {
		case library.IsRefusal(err) && errors.As(err, &ae):
			return "", fmt.Errorf("%w by the library: %v", ErrRefused, ae.Refused[0].Err)
		case err != nil:
			// The library could not keep it (a full card, a failed
			// write): the symbols stay in the state folder, and the
			// archive decodes again once that is fixed.
			return "", fmt.Errorf("the library could not add a decoded archive (%w); what was received is kept in the state folder: fix this and run the receiver again", err)
		}
		for _, w := range res.Warnings {
			if log != nil {
				log("warning: " + w)
			}
		}
		msg := "added to the library"
		if len(res.Added) == 0 {
			msg = "already in the library"
		}
		if len(res.Warnings) > 0 {
			msg += " (" + strings.Join(res.Warnings, "; ") + ")"
		}
		return msg, nil
	}
	return want, deliver
}

func signedByAny(a *Announcement, keys []key.Public) bool {
	for _, k := range keys {
		if a.SignedBy(k) {
			return true
		}
	}
	return false
}
