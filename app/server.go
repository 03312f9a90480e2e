package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server is an HTTP server on a listener, serving in a goroutine that it owns until stop.
type Server struct {
	srv  *http.Server
	done chan struct{} // closed when Serve has returned
	err  error         // what Serve returned; read after done
}

// StartServer serves h on ln until stop. writeTimeout bounds a response (the sandbox's
// long polls need more than a webhook).
func StartServer(ln net.Listener, h http.Handler, logger *slog.Logger, writeTimeout time.Duration) *Server {
	s := &Server{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		s.err = s.srv.Serve(ln)
	}()
	return s
}

// Stop shuts the server down gracefully and waits for its goroutine. A server that had
// stopped on an error returns that error.
func (s *Server) Stop(ctx context.Context) error {
	shutdownErr := s.srv.Shutdown(ctx)
	<-s.done
	serveErr := s.err
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if serveErr != nil {
		serveErr = fmt.Errorf("http server: %w", serveErr)
	}
	if shutdownErr != nil {
		shutdownErr = fmt.Errorf("shut the http server down: %w", shutdownErr)
	}
	return errors.Join(serveErr, shutdownErr)
}

// ShutdownAfter waits until ctx ends or the server fails, then stops the server and, after
// it, the rest (closeRest), with 30 seconds for both from then. It returns the server's
// error; closeRest's is logged.
func ShutdownAfter(ctx context.Context, front *Server, closeRest func(context.Context) error, logger *slog.Logger) error {
	select {
	case <-ctx.Done():
	case <-front.done: // it failed; stop reports why
	}
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	httpErr := front.Stop(closeCtx)
	if err := closeRest(closeCtx); err != nil {
		logger.Error("shutdown", "err", err)
	}
	return httpErr
}

// RegisterOnShutdown calls f when the server starts shutting down, so that long requests can
// end (see http.Server.RegisterOnShutdown).
func (s *Server) RegisterOnShutdown(f func()) { s.srv.RegisterOnShutdown(f) }
