package release

import (
	"bytes"
	"html/template"
	"path/filepath"

	"ferry/internal/atomicfile"
)

// ReadmeFile is the page written beside a verified copy of the programs:
// it tells a reader, in Korean and in English, which file to run on which
// device. It is made from the verified list by the copying side, never
// read from a card.
const ReadmeFile = "README.html"

// readmeRow is one program on the README page.
type readmeRow struct{ File, For, OS string }

// Readme returns the README page for the verified program files.
// Files that are no release target are listed without a device.
func Readme(files []string) []byte {
	var rows []readmeRow
	for _, f := range files {
		r := readmeRow{File: f}
		for _, t := range Targets {
			if t.FileName() == f {
				r.For, r.OS = t.For, t.OS
			}
		}
		rows = append(rows, r)
	}
	var b bytes.Buffer
	if err := readmePage.Execute(&b, rows); err != nil {
		panic(err) // the template and its data are ours
	}
	return b.Bytes()
}

// writeReadme writes ReadmeFile into dir.
func writeReadme(dir string, files []string) error {
	return atomicfile.WriteFile(filepath.Join(dir, ReadmeFile), Readme(files), 0o644)
}

// The page needs no script and no outside resource; it reads on a phone
// and in the browsers of old PCs.
var readmePage = template.Must(template.New("readme").Parse(`<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ferry 프로그람 — 어느 기계에서 무엇을 돌리는가</title>
<style>body{font-family:sans-serif;max-width:40em;margin:1em auto;padding:0 .8em;line-height:1.5}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3em;text-align:left;vertical-align:top}
code{word-break:break-all}</style></head><body>
<h1>ferry 프로그람</h1>
<p>이 등록부(폴더)에는 여러 가지 기계에서 돌아가는 ferry 프로그람이 있습니다. 모든 파일은 복사하기 전에
믿을 수 있는 발행자의 서명과 대조하여 확인하였습니다. 자기 기계에 맞는 파일 하나만 있으면 됩니다.</p>
<table><tr><th>파일</th><th>기계</th></tr>
{{range .}}<tr><td><code>{{.File}}</code></td><td>{{if .For}}{{.For}}{{else}}—{{end}}</td></tr>
{{end}}</table>
<h2>쓰는 방법</h2>
<ol>
<li>자기 기계에 맞는 파일을 고릅니다.</li>
<li>윈도우즈: 그 파일을 두 번 누르면 이 카드의 서고가 흔적을 남기지 않는 열람기(브라우저) 창에서 열립니다.
리눅스와 맥: 명령창에서 이 등록부로 가서 <code>chmod +x 파일이름</code> 한 다음 <code>./파일이름</code> 을 돌립니다.</li>
<li>열람기가 열리지 않으면 <code>파일이름 serve ..</code> 를 돌리고 열람기에서 <code>http://127.0.0.1:8080</code> 을 엽니다.
이 주소는 자기 기계 안에서만 열립니다. 아무것도 밖으로 보내지 않습니다.</li>
</ol>
<p>윈도우즈 XP나 7처럼 오래된 콤퓨터에서는 이 프로그람들이 돌지 않습니다. 그런 콤퓨터에서는 카드에 내보낸
<code>index.html</code> 이 있으면 그것을 열람기로 열어 프로그람 없이 읽을 수 있습니다.</p>
<hr>
<div lang="en">
<h2>ferry programs (English)</h2>
<p>This folder holds ferry for several kinds of device. Every file was checked against a trusted
publisher's signature before it was copied. Pick the one file for your device from the table
(linux = Linux PCs including Red Star OS, windows = Windows 10/11, darwin = Mac, android = phones).
On Windows, double-click it: the card's library opens in a private browser window that leaves
nothing behind. On Linux and Mac, run <code>chmod +x FILE</code> and then <code>./FILE</code> in
this folder. If no browser opens, run <code>FILE serve ..</code> and open
<code>http://127.0.0.1:8080</code>: it answers on this device only and sends nothing anywhere.
Windows XP and 7 cannot run these programs; open the card's static <code>index.html</code>
instead, if the card has one.</p>
</div>
</body></html>
`))
