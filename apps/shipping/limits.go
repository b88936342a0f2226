package main

import (
	"errors"
	"net/http"
)

// maxBodyBytes bounds every request body. The sidecar takes at most 1 MiB (dapr.yaml:
// maxBodySize), so every event it delivers fits, CloudEvent envelope and all.
const maxBodyBytes = 2 << 20

// limitBodies answers 413 to a body that says it is over the limit, and makes reading
// past the limit fail (see tooLarge) for one that does not say.
func limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBodyBytes {
			writeTooLarge(w)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// tooLarge tells whether reading a body failed because it passed the limit.
func tooLarge(err error) bool {
	var limit *http.MaxBytesError
	return errors.As(err, &limit)
}

func writeTooLarge(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_, _ = w.Write([]byte(`{"detail":"the request body is over 2 MiB"}` + "\n"))
}
