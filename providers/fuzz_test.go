package providers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
)

// FuzzLoadProviderFile loads a directory holding one arbitrary provider
// file: Load must not fail nor panic, and the file either loads (enabled,
// with a known bank and plugins) or is skipped with its reason logged. The
// file-system bank always lands in the fuzzer's temporary directory: a
// section appended last sets its path.
func FuzzLoadProviderFile(f *testing.F) {
	for _, s := range []string{
		noopFile("ignored"),
		"[provider]\nid = x\nenabled = True\nbank = karbor-fs-bank-plugin\nplugin = karbor-noop-protection-plugin\nplugin = karbor-noop-protection-plugin\n",
		"[provider]\nid = x\nenabled = yes\nbank = karbor-fs-bank-plugin\nplugin =\n",
		"[provider]\nenabled = maybe\n",
		"[provider\n",
		"[provider]\nid = $missing\nname = ${name}\nenabled = 1\nbank = karbor-fs-bank-plugin\n",
		"[provider]\nenabled = on\nbank = karbor-fs-bank-plugin\n[file_system_bank_plugin]\nbank_object_container = ../x\n",
		"[provider]\nenabled = True\nbank = karbor-fs-bank-plugin\n[file_system_bank_plugin]\nlease_renew_window = 700\n",
	} {
		f.Add(s)
	}
	l, _ := test.NewNullLogger()
	ctx := logctx.With(context.Background(), logrus.NewEntry(l))
	f.Fuzz(func(t *testing.T, text string) {
		dir := t.TempDir()
		text += "\n\n[file_system_bank_plugin]\nfile_system_bank_path = " + filepath.Join(dir, "bank") + "\n"
		if err := os.WriteFile(filepath.Join(dir, "p.conf"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		reg, err := providers.Load(ctx, providers.Options{Dir: dir})
		if err != nil {
			t.Fatalf("a bad provider file must be skipped, not fail the load: %v", err)
		}
		defer reg.Close()
		for _, p := range reg.Providers() {
			if _, err := reg.Show(p.ID()); err != nil {
				t.Fatalf("loaded provider %q not found: %v", p.ID(), err)
			}
			if _, err := reg.List(providers.ListQuery{}); err != nil {
				t.Fatal(err)
			}
		}
	})
}
