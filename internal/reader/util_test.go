package reader

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"ferry/internal/key"
)

type publicKey = key.Public

func itoa(n int) string { return strconv.Itoa(n) }

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustGet(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

var errTest = errTestType{}

type errTestType struct{}

func (errTestType) Error() string { return "test: broken on purpose" }
