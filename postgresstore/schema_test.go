package postgresstore

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEMigration checks that README.md shows the SQL that Migrate
// applies to the default schema.
func TestREADMEMigration(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := "```sql\n" + renderSQL(migration, `"`+DefaultSchema+`"`) + "```\n"
	if !strings.Contains(string(readme), want) {
		t.Errorf("README.md lacks the migration SQL for schema %q; copy it from schema.go:\n%s", DefaultSchema, want)
	}
}
