package pgtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
)

// superuser is the name initdb gives the cluster's superuser, whoever runs it.
const superuser = "postgres"

// binGlob is where Debian's postgresql packages put initdb and pg_ctl, one folder per
// major version.
const binGlob = "/usr/lib/postgresql/*/bin"

// osUser is the unprivileged account the cluster runs as when the tests run as root:
// PostgreSQL refuses to run as root.
type osUser struct {
	name     string
	uid, gid int
}

// findBin returns the newest folder of binGlob that has initdb and pg_ctl, or PATH's.
func findBin() (string, error) {
	dirs, _ := filepath.Glob(binGlob)
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	if initdb, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(initdb)
		if isExecutable(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL binaries: neither %s/initdb nor initdb on PATH", binGlob)
}

// majorOf returns the major version in a binGlob folder's name, or 0.
func majorOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// start creates the cluster in a new temporary folder and starts it.
func (s *Server) start() error {
	if os.Geteuid() == 0 {
		u, err := unprivilegedUser()
		if err != nil {
			return err
		}
		s.runAs = u
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return fmt.Errorf("create the cluster's folder: %w", err)
	}
	s.dir, s.socketDir = dir, filepath.Join(dir, "socket")
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(s.socketDir, 0o700); err != nil {
		return fmt.Errorf("create the socket folder: %w", err)
	}
	if s.runAs != nil {
		for _, p := range []string{dir, s.socketDir} {
			if err := os.Chown(p, s.runAs.uid, s.runAs.gid); err != nil {
				return fmt.Errorf("give %s to %s: %w", p, s.runAs.name, err)
			}
		}
	}
	if err := s.run("initdb", "-D", data, "-U", superuser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return err
	}
	opts := fmt.Sprintf("-k %s -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB", s.socketDir)
	return s.run("pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", filepath.Join(dir, "server.log"), "-o", opts)
}

// Stop stops the cluster at once and removes its folder.
func (s *Server) Stop() error {
	if s.bin == "" {
		return nil
	}
	err := s.run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", filepath.Join(s.dir, "data"))
	return errors.Join(err, os.RemoveAll(s.dir))
}

// run runs one of the cluster's programs, as s.runAs when set; its output is in the error.
func (s *Server) run(program string, args ...string) error {
	path := filepath.Join(s.bin, program)
	cmd := exec.Command(path, args...)
	if s.runAs != nil {
		// setpriv (util-linux) drops root without a login shell or PAM, unlike su.
		cmd = exec.Command("setpriv", append([]string{"--reuid", strconv.Itoa(s.runAs.uid), "--regid", strconv.Itoa(s.runAs.gid),
			"--clear-groups", "--", path}, args...)...)
	}
	cmd.Dir = s.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		return fmt.Errorf("%s %v: %w\n%s%s", program, args, err, out.Bytes(), log)
	}
	return nil
}

// unprivilegedUser returns the account to run the cluster as when the tests run as root:
// postgres (which Debian's package creates), else nobody.
func unprivilegedUser() (*osUser, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 == nil && err2 == nil {
			return &osUser{name: name, uid: uid, gid: gid}, nil
		}
	}
	return nil, errors.New("running as root, and neither a postgres nor a nobody account exists to run PostgreSQL as (it refuses root)")
}
