package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// globals are the flags every command shares.
type globals struct {
	data     string
	json     bool
	logLevel string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rootCommand().ExecuteContext(ctx); err != nil {
		// NB: errors of the eidsync package already start with its name.
		fmt.Fprintln(os.Stderr, "eidsync: "+strings.TrimPrefix(err.Error(), "eidsync: "))
		os.Exit(1)
	}
}

func rootCommand() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "eidsync",
		Short:         "An Eidetica-compatible sync node",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.data, "data", "", "data directory (required)")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print JSON for scripts")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.AddCommand(serveCommand(g), dbCommand(g), syncCommand(g), statusCommand(g), requestsCommand(g))
	return root
}

func (g *globals) logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func (g *globals) needData() error {
	if g.data == "" {
		return errors.New("--data is required: the node's data directory")
	}
	return nil
}
