package base

import "testing"

func TestExampleBlocks(t *testing.T) {
	doc := "# x\n```hcl\nplugin \"a\" {\n  k = 1\n}\nplugin \"b\" {}\n```\ntext\n```hcl\nplugin \"a\" { k = 2 }\n```\n"
	got, err := ExampleBlocks([]byte(doc), "README.md", "a")
	if err != nil || len(got) != 2 {
		t.Fatalf("%d blocks, %v", len(got), err)
	}
	var v struct {
		K int `hcl:"k"`
	}
	if err := got[0].Decode(&v); err != nil || v.K != 1 {
		t.Fatalf("first block: %+v %v", v, err)
	}
	if err := got[1].Decode(&v); err != nil || v.K != 2 {
		t.Fatalf("second block: %+v %v", v, err)
	}
	if _, err := ExampleBlocks([]byte("```hcl\nplugin \"a\" {"), "R.md", "a"); err == nil {
		t.Fatal("unclosed fence accepted")
	}
	bad := "```hcl\nplugin \"a\" {\n  k = 1\n  zz = 2\n}\n```\n"
	got, _ = ExampleBlocks([]byte(bad), "R.md", "a")
	if err := got[0].Decode(&v); err == nil {
		t.Fatal("unknown key accepted")
	}
}
