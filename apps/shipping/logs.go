package main

import (
	"io"
	"log/slog"
	"strings"
)

// newLogger writes one JSON object a line, in the shape the Python apps use: time,
// level, app, message, and the event's ids when one is being handled.
func newLogger(out io.Writer) *slog.Logger {
	handler := slog.NewJSONHandler(out, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch {
			case len(groups) > 0:
			case a.Key == slog.MessageKey:
				a.Key = "message"
			case a.Key == slog.LevelKey:
				a.Value = slog.StringValue(strings.ToLower(a.Value.String()))
			}
			return a
		},
	})
	return slog.New(handler).With("app", appID)
}
