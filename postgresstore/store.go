package postgresstore

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twofactor-go/twofactor"
)

// DefaultSchema is the schema that holds the tables unless [WithSchema]
// names another.
const DefaultSchema = "twofactor"

// maxIdentifierLength is the longest identifier PostgreSQL keeps in full:
// NAMEDATALEN - 1 bytes with the default NAMEDATALEN of 64. PostgreSQL
// truncates a longer name, so two long names could share one schema.
const maxIdentifierLength = 63

// schemaToken stands for the quoted schema name in the SQL text of this
// package and is replaced when a query runs.
const schemaToken = "{schema}"

// Store is a [twofactor.Store] in PostgreSQL. It keeps no state of its own
// besides the pool and the schema name, so any number of Store values, in
// one process or in many, may share one database. It is safe for
// concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	schema string // the schema name, quoted
}

// Option changes how [New] sets up a Store.
type Option func(*options)

type options struct {
	schema string
}

// WithSchema sets the schema that holds the tables. The name is quoted, so
// it is taken exactly as given, case and all.
func WithSchema(name string) Option {
	return func(o *options) { o.schema = name }
}

// New returns a Store that runs its queries on pool, in the schema
// [DefaultSchema] unless [WithSchema] names another. The tables must exist:
// run [Store.Migrate] once at start-up, or apply the SQL in the README.
//
// New panics if the schema name is empty, longer than 63 bytes, not valid
// UTF-8 or contains a NUL byte, because PostgreSQL would reject, truncate
// or alter such a name.
func New(pool *pgxpool.Pool, opts ...Option) *Store {
	o := options{schema: DefaultSchema}
	for _, opt := range opts {
		opt(&o)
	}
	if err := validateSchema(o.schema); err != nil {
		panic(err)
	}
	return &Store{pool: pool, schema: pgx.Identifier{o.schema}.Sanitize()}
}

// validateSchema returns an error for a schema name that PostgreSQL would
// not store unchanged.
func validateSchema(name string) error {
	switch {
	case name == "":
		return errors.New("twofactor/postgresstore: schema name is empty")
	case len(name) > maxIdentifierLength:
		return fmt.Errorf("twofactor/postgresstore: schema name %q is %d bytes long; use at most %d", name, len(name), maxIdentifierLength)
	case !utf8.ValidString(name):
		return fmt.Errorf("twofactor/postgresstore: schema name %q is not valid UTF-8", name)
	case strings.IndexByte(name, 0) >= 0:
		return fmt.Errorf("twofactor/postgresstore: schema name %q contains a NUL byte", name)
	}
	return nil
}

// sql returns query with the store's quoted schema name in place of
// schemaToken.
func (s *Store) sql(query string) string {
	return renderSQL(query, s.schema)
}

func renderSQL(query, quotedSchema string) string {
	return strings.ReplaceAll(query, schemaToken, quotedSchema)
}

// failed wraps a driver error with the operation that failed.
func failed(err error, format string, args ...any) error {
	return fmt.Errorf("twofactor/postgresstore: %s failed: %w", fmt.Sprintf(format, args...), err)
}

var _ twofactor.Store = (*Store)(nil)

// bytea returns b, or an empty slice for nil. pgx sends a nil slice as
// NULL, which the NOT NULL bytea columns reject, and memstore stores an
// empty secret or hash as readily as any other.
func bytea(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
