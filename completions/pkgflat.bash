# bash completion for pkgflat(1). Installed as
# $(BASHCOMPDIR)/pkgflat; needs the bash-completion package.
# tests/cli/test_completion.sh checks every option list here against
# 'pkgflat CMD --help'.

_pkgflat_options() { # COMMAND: the options 'pkgflat COMMAND --help' names
	case $1 in
	info) echo "--json --no-scan --select --max-image-size --force -h --help" ;;
	ls) echo "--bom --payload --sha256 --scripts --json --max-image-size --force -h --help" ;;
	convert) echo "-o --output --report --select --ownership --min-os --title --identifier --arch
		--toc-checksum --sign --check --max-image-size -q --quiet -h --help" ;;
	sign) echo "-o --p12 --key --cert --sign-command --chain --pass --force --timestamp
		--timestamp-timeout --fsync --prepare --inject" ;;
	staple) echo "--ticket --remove" ;;
	diff) echo "--map --ignore --only --ownership --max --json --select -q --quiet -h --help" ;;
	verify) echo "--ca --ca-only --at --allow-unsigned --signature-only --json -q --quiet
		-h --help" ;;
	batch) echo "-o --output -j --jobs --threads --force --force-sign --junit --progress
		-q --quiet -h --help --ownership --min-os --title --identifier --arch
		--toc-checksum --sign --check --max-image-size" ;;
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
		COMPREPLY=($(compgen -W "info ls convert sign staple diff verify batch --help --version" -- "$cur"))
		return
	fi

	case $prev in
	--p12) _filedir 'p12|pfx'; return ;;
	--key | --cert | --chain | --ca | --ca-only) _filedir 'pem|crt|cer|der|key'; return ;;
	--report | --junit | --ticket) _filedir; return ;;
	--prepare | --inject) _filedir -d; return ;;
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
	--at | --timestamp-timeout | --sign-command)
		return ;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_pkgflat_options "$cmd")" -- "$cur"))
		return
	fi
	case $cmd in
	# Flat packages are files.
	sign | verify | staple) _filedir pkg ;;
	# ls also reads a lone Bom or Payload file, whatever its name.
	ls) _filedir ;;
	# Bundles are directories (_filedir offers every directory); archives
	# of them are zip or tar files, compressed or not.
	*) _filedir 'pkg|mpkg|zip|tar|tgz|gz|bz2|xz' ;;
	esac
}
complete -F _pkgflat pkgflat
