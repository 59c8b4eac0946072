# bash completion for pkgflat(1). Installed as
# $(BASHCOMPDIR)/pkgflat; needs the bash-completion package.
# tests/cli/test_completion.sh checks every option list here against
# 'pkgflat CMD --help'.

_pkgflat_options() { # COMMAND: the options 'pkgflat COMMAND --help' names
	case $1 in
	info) echo "--json --no-scan --select --max-image-size --force -v --verbose -q --quiet -h --help" ;;
	ls) echo "--bom --payload --payload-files --sha256 --scripts --json --max-image-size --force -v --verbose -q --quiet
		-h --help" ;;
	convert) echo "-o --output --report --select --max-image-size --ownership --min-os --title --identifier --arch
		--toc-checksum --sign --identity --check -v --verbose -q --quiet --progress --no-progress
		-h --help" ;;
	sign) echo "-o --p12 --key --cert --sign-command --chain --pass --force --timestamp
		--timestamp-timeout --fsync --prepare --inject --sign -v --verbose -q --quiet
		--progress --no-progress -h --help" ;;
	staple) echo "--ticket --remove --fetch --ticket-wait --ticket-url --ca-file -v --verbose
		-q --quiet" ;;
	notarize) echo "--wait --staple --status --log --history --json --no-preflight --ticket-wait --key
		--key-id --issuer --api-key-file --notary-url --s3-url --ticket-url --ca-file
		-h --help" ;;
	diff) echo "--map --ignore --only --ownership --max --json --select --html -v --verbose -q --quiet
		--progress --no-progress -h --help" ;;
	verify | check-signature) echo "--ca --ca-only --at --allow-unsigned --signature-only --notarization
		--json -v --verbose -q --quiet --progress --no-progress -h --help" ;;
	batch) echo "-o --output -j --jobs --threads --force --force-sign --junit --progress
		--no-progress --html --no-preflight --notarize --staple --wait --notary-key --key-id
		--issuer --api-key-file -v --verbose -q --quiet -h --help --ownership --min-os --title
		--identifier --arch --toc-checksum --sign --identity --check --max-image-size" ;;
	expand) echo "--full -h --help" ;;
	flatten) echo "--ownership --toc-checksum --sign --identity --p12 --key --cert --chain --pass --force
		--sign-command --timestamp -h --help" ;;
	build) echo "--root --identifier --version --install-location --scripts --ownership
		--distribution --package-path --resources --package --component --title --min-os --synthesize
		--toc-checksum --sign --identity --p12 --key --cert --chain --pass --force --sign-command
		--timestamp -h --help" ;;
	esac
}

_pkgflat() {
	local cur prev words cword
	_init_completion -n = || return

	local cmd="" i
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "info ls convert sign staple notarize diff verify check-signature batch
		    expand flatten build --help --version" -- "$cur"))
		return
	fi

	case $prev in
	--p12) _filedir 'p12|pfx'; return ;;
	--key)
		if [[ $cmd == notarize ]]; then _filedir p8; else _filedir 'pem|crt|cer|der|key'; fi
		return ;;
	--notary-key) _filedir p8; return ;;
	--cert | --chain | --ca | --ca-only | --ca-file) _filedir 'pem|crt|cer|der|key'; return ;;
	--api-key-file) _filedir json; return ;;
	--report | --junit | --ticket | --html) _filedir; return ;;
	--prepare | --inject | --root | --scripts | --package-path | --resources) _filedir -d; return ;;
	--distribution) _filedir; return ;;
	--package | --component) _filedir pkg; return ;;
	-o | --output)
		if [[ $cmd == batch ]]; then _filedir -d; else _filedir pkg; fi
		return ;;
	--ownership)
		COMPREPLY=($(compgen -W "recommended preserve root" -- "$cur"))
		return ;;
	--toc-checksum) COMPREPLY=($(compgen -W "sha1 sha256 sha512" -- "$cur")); return ;;
	--only) COMPREPLY=($(compgen -W "payload metadata" -- "$cur")); return ;;
	--progress) COMPREPLY=($(compgen -W "auto plain tty" -- "$cur")); return ;;
	--pass)
		COMPREPLY=($(compgen -W "env: file: fd:" -- "$cur"))
		compopt -o nospace 2>/dev/null
		return ;;
	--ignore)
		# A comma-separated list: complete its last item.
		local done_=${cur%"${cur##*,}"}
		COMPREPLY=($(compgen -P "$done_" -W "mtime owner mode content links bom scripts version checks" \
		    -- "${cur##*,}"))
		compopt -o nospace 2>/dev/null
		return ;;
	--min-os | --title | --identifier | --arch | --map | --max | -j | --jobs | --threads | \
	--at | --timestamp-timeout | --sign-command | --sign | --status | --log | --key-id | --issuer | \
	--notary-url | --s3-url | --ticket-url | --ticket-wait | --wait | --version | --install-location)
		return ;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_pkgflat_options "$cmd")" -- "$cur"))
		return
	fi
	case $cmd in
	# Flat packages are files.
	sign | verify | check-signature | staple | notarize) _filedir pkg ;;
	# expand reads a flat package file and names a new directory; flatten
	# reads a directory and names a package; build names its output.
	expand | flatten | build) _filedir ;;
	# ls also reads a lone Bom or Payload file, whatever its name.
	ls) _filedir ;;
	# Bundles are directories (_filedir offers every directory); archives
	# of them are zip or tar files, compressed or not.
	*) _filedir 'pkg|mpkg|zip|tar|tgz|gz|bz2|xz' ;;
	esac
}
complete -F _pkgflat pkgflat
