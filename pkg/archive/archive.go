// Package archive is paddock's raw archive: every upstream response,
// stored once in a JetStream object store under its host and path, with
// its HTTP status, the host that answered and its sha256. Definitive
// answers are archived (200 and "not there" 4xx), so a second import of
// the same data needs no upstream call; transient failures never are.
package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"time"

	"github.com/paddock-f1/paddock/pkg/metrics"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrNotArchived reports that the archive holds no response for a name.
var ErrNotArchived = errors.New("archive: not archived")

// Entry describes one archived response.
type Entry struct {
	Name      string    // object name: host + path
	Host      string    // logical host asked (livetiming.formula1.com even when the mirror answered)
	Path      string    // URL path (with query)
	Status    int       // HTTP status of the definitive answer
	Origin    string    // host that answered
	SHA256    string    // hex sha256 of the body
	Size      int64     // body bytes
	FetchedAt time.Time // when the upstream answered
}

// Archive is the raw archive. It is safe for concurrent use.
type Archive struct {
	obs    jetstream.ObjectStore
	js     jetstream.JetStream
	bucket string
}

// Open binds the archive bucket (see streams.RawBucket), which must exist.
func Open(ctx context.Context, js jetstream.JetStream, bucket string) (*Archive, error) {
	obs, err := js.ObjectStore(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("archive: open bucket %s: %w", bucket, err)
	}
	return &Archive{obs: obs, js: js, bucket: bucket}, nil
}

// Name is the object name of host and path.
func Name(host, path string) string { return host + path }

const (
	metaHost      = "host"
	metaPath      = "path"
	metaStatus    = "status"
	metaOrigin    = "origin"
	metaSHA256    = "sha256"
	metaFetchedAt = "fetched-at"
)

// Stat returns the entry archived for host and path, or ErrNotArchived.
func (a *Archive) Stat(ctx context.Context, host, path string) (*Entry, error) {
	return a.stat(ctx, Name(host, path))
}

func (a *Archive) stat(ctx context.Context, name string) (*Entry, error) {
	info, err := a.obs.GetInfo(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, ErrNotArchived
	}
	if err != nil {
		return nil, fmt.Errorf("archive: stat %s: %w", name, err)
	}
	return entryOf(info), nil
}

func entryOf(info *jetstream.ObjectInfo) *Entry {
	m := info.Metadata
	status, _ := strconv.Atoi(m[metaStatus])
	at, _ := time.Parse(time.RFC3339Nano, m[metaFetchedAt])
	return &Entry{
		Name: info.Name, Host: m[metaHost], Path: m[metaPath], Status: status,
		Origin: m[metaOrigin], SHA256: m[metaSHA256], Size: int64(info.Size), FetchedAt: at,
	}
}

// chunkSize is the object store's chunk size (its default): larger bodies
// are stored in chunks of it.
const chunkSize = 128 << 10

// Put archives a definitive upstream answer. Putting a body identical to
// the archived one changes nothing and returns the existing entry.
func (a *Archive) Put(ctx context.Context, host, path string, status int, origin string, body []byte) (*Entry, error) {
	old, err := a.stat(ctx, Name(host, path))
	if err != nil && !errors.Is(err, ErrNotArchived) {
		old = nil // unknown: write it
	}
	return a.Replace(ctx, host, path, status, origin, body, old)
}

// Replace is Put for a caller that has just looked the answer up: old is
// what Stat returned (nil when it was not archived), so the archive is
// not asked again. A body identical to old changes nothing.
func (a *Archive) Replace(ctx context.Context, host, path string, status int, origin string, body []byte, old *Entry) (*Entry, error) {
	name := Name(host, path)
	sum := sha256.Sum256(body)
	digest := hex.EncodeToString(sum[:])
	if old != nil && old.SHA256 == digest && old.Status == status {
		return old, nil
	}
	meta := jetstream.ObjectMeta{
		Name: name,
		Metadata: map[string]string{
			metaHost: host, metaPath: path, metaStatus: strconv.Itoa(status),
			metaOrigin: origin, metaSHA256: digest,
			metaFetchedAt: time.Now().UTC().Format(time.RFC3339Nano),
		},
	}
	if len(body) < chunkSize {
		// One chunk the body's size: the object store reads into a buffer
		// of the chunk size, and most answers are a few KB.
		meta.Opts = &jetstream.ObjectMetaOptions{ChunkSize: uint32(max(len(body), 1))}
	}
	info, err := a.obs.Put(ctx, meta, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("archive: put %s (%d bytes): %w", name, len(body), err)
	}
	metrics.ArchiveBytes.WithLabelValues("in").Add(float64(len(body)))
	return entryOf(info), nil
}

// Open streams an archived body by object name, for bodies too large to
// hold (telemetry streams): it pulls the object's chunks a few at a time
// (openAhead), so memory stays bounded whatever the body's size, and the
// reader checks the sha256 the body was stored with (and want, when not
// empty) as it reaches the end, returning an error there instead of io.EOF
// when they differ: a reader that consumes to the end never takes a
// corrupted body for whole. Close it when done.
func (a *Archive) Open(ctx context.Context, name, want string) (io.ReadCloser, error) {
	info, err := a.obs.GetInfo(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNotArchived, name)
	}
	if err != nil {
		return nil, fmt.Errorf("archive: get %s: %w", name, err)
	}
	c := &checked{h: sha256.New(), name: name, stored: entryOf(info).SHA256, want: want, chunks: int(info.Chunks)}
	if info.Chunks == 0 {
		return c, nil
	}
	// The object store keeps an object's chunks on one subject of its
	// stream; an ordered pull consumer reads them in order, openAhead at
	// a time (a push reader would buffer the whole object).
	cons, err := a.js.OrderedConsumer(ctx, "OBJ_"+a.bucket, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"$O." + a.bucket + ".C." + info.NUID},
	})
	if err != nil {
		return nil, fmt.Errorf("archive: read %s: %w", name, err)
	}
	if c.iter, err = cons.Messages(jetstream.PullMaxMessages(openAhead)); err != nil {
		return nil, fmt.Errorf("archive: read %s: %w", name, err)
	}
	return c, nil
}

// openAhead is how many chunks (128 KiB each) Open asks for at once.
const openAhead = 8

// checked reads an object's chunks, hashes them and compares at the end.
type checked struct {
	iter         jetstream.MessagesContext
	chunks, read int
	rest         []byte
	h            hash.Hash
	name         string
	stored, want string
}

func (c *checked) Read(p []byte) (int, error) {
	for len(c.rest) == 0 {
		if c.read == c.chunks {
			got := hex.EncodeToString(c.h.Sum(nil))
			if got != c.stored || (c.want != "" && got != c.want) {
				return 0, fmt.Errorf("archive: %s: body sha256 %s does not match the manifest's %s; re-import with --refetch", c.name, got, c.want)
			}
			return 0, io.EOF
		}
		msg, err := c.iter.Next()
		if err != nil {
			return 0, fmt.Errorf("archive: read %s: chunk %d of %d: %w", c.name, c.read+1, c.chunks, err)
		}
		c.rest = msg.Data()
		c.read++
		metrics.ArchiveBytes.WithLabelValues("out").Add(float64(len(c.rest)))
		c.h.Write(c.rest)
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	return n, nil
}

func (c *checked) Close() error {
	if c.iter != nil {
		c.iter.Stop()
	}
	return nil
}

// Get reads an archived body by object name and checks it against the
// sha256 it was stored with (and, when want is not empty, against want).
func (a *Archive) Get(ctx context.Context, name, want string) ([]byte, *Entry, error) {
	r, err := a.obs.Get(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotArchived, name)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("archive: get %s: %w", name, err)
	}
	defer r.Close()
	info, err := r.Info()
	if err != nil {
		return nil, nil, fmt.Errorf("archive: get %s: %w", name, err)
	}
	// Read into a buffer of the object's size: a large body is held once.
	body := make([]byte, info.Size)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, nil, fmt.Errorf("archive: read %s: %w", name, err)
	}
	metrics.ArchiveBytes.WithLabelValues("out").Add(float64(len(body)))
	e := entryOf(info)
	sum := sha256.Sum256(body)
	got := hex.EncodeToString(sum[:])
	if got != e.SHA256 || (want != "" && got != want) {
		return nil, nil, fmt.Errorf("archive: %s: body sha256 %s does not match the manifest's %s; re-import with --refetch", name, got, want)
	}
	return body, e, nil
}
