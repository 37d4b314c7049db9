// Command eidsync is the eidsync node: a thin command line over the
// embedding API of package eidsync.
//
//	eidsync serve --data DIR --http 127.0.0.1:8080
//	eidsync db create|list|put|get|log --data DIR ...
//	eidsync sync --data DIR --peer ADDR --tree ID
//	eidsync status --data DIR
//
// While `serve` runs it holds the data directory's lock; the other commands
// then reach it through a Unix socket in the data directory (eidsync.sock,
// mode 0600) instead of opening the store themselves. Output is for humans
// by default and JSON with --json; logs are structured (slog) on stderr.
package main
