#!/usr/bin/env bash
# Decide which app images a range of commits changes.
#
# Run directly, it prints the apps whose image differs between two commits.
# deploy.sh sources this file and calls the same functions, so the rules
# exist once for both deploy.sh and the CI workflow.
set -euo pipefail

# The six apps, in the order that deploy.sh and CI process them. Each app is a
# top-level folder with its own Dockerfile and entrypoint.sh.
ROSE_ASH_APPS=(blog market cart events federation account)

# Paths that go into every image or into every service's definition: a change
# to any of them rebuilds and redeploys every app. A trailing slash marks a folder.
# Every image copies federation/activitylog/, because every app serves its
# actor's outbox from the activity log.
ROSE_ASH_SHARED_PATHS=(shared/ federation/activitylog/ _config/ pyproject.toml docker-compose.yml)

# The Swarm stack file. A change to it also needs `docker stack deploy`.
ROSE_ASH_STACK_FILE=docker-compose.yml

changed_apps_usage() {
    cat <<USAGE
Usage: scripts/changed-apps.sh [--json] [--head REV] BASE
       scripts/changed-apps.sh --list

Print the apps whose image changes between commit BASE and REV (default HEAD),
one name a line, in the order: ${ROSE_ASH_APPS[*]}.

A change to one of these paths means every app:
  ${ROSE_ASH_SHARED_PATHS[*]}
Otherwise an app is listed when a file under its own folder changed.
When BASE is empty, all zeros (the "before" of a new branch) or not a commit
in this repository, every app is listed and a note goes to standard error.

Options:
  --json        print a JSON array on one line instead, e.g. ["blog","cart"]
  --head REV    compare BASE with REV instead of HEAD
  --list        print all app names and exit
  -h, --help    show this help and exit

Exit status: 0 on success (also when no app changed), 2 on a usage error.
USAGE
}

# Succeed when $1 names an app.
is_app() {
    local name=$1 app
    for app in "${ROSE_ASH_APPS[@]}"; do
        [[ $app == "$name" ]] && return 0
    done
    return 1
}

# Succeed when $1 names a commit in the current repository. An empty value
# and the all-zero id that a push event reports for a new branch do not.
is_commit() {
    local rev=$1
    [[ -n $rev && ! $rev =~ ^0+$ ]] || return 1
    git rev-parse --quiet --verify "$rev^{commit}" >/dev/null
}

# Print the paths that differ between two commits. Renames are listed as a
# deletion plus an addition, so a file moved from one app to another counts
# for both apps.
changed_paths() {
    git diff --no-renames --name-only "$1" "$2" --
}

# Succeed when a path belongs to every image (see ROSE_ASH_SHARED_PATHS).
is_shared_path() {
    local path=$1 shared
    for shared in "${ROSE_ASH_SHARED_PATHS[@]}"; do
        if [[ $shared == */ ]]; then
            [[ $path == "$shared"* ]] && return 0
        else
            [[ $path == "$shared" ]] && return 0
        fi
    done
    return 1
}

# Print the apps whose image changes between BASE and HEAD, one a line.
changed_apps() {
    local base=$1 head=$2 path app
    local -A touched=()

    if ! is_commit "$base"; then
        printf "changed-apps: base '%s' is not a known commit, so every app is listed\n" "$base" >&2
        printf '%s\n' "${ROSE_ASH_APPS[@]}"
        return 0
    fi

    while IFS= read -r path; do
        [[ -n $path ]] || continue
        if is_shared_path "$path"; then
            printf '%s\n' "${ROSE_ASH_APPS[@]}"
            return 0
        fi
        app=${path%%/*}
        if [[ $path == */* ]] && is_app "$app"; then
            touched[$app]=1
        fi
    done < <(changed_paths "$base" "$head")

    for app in "${ROSE_ASH_APPS[@]}"; do
        if [[ -n ${touched[$app]:-} ]]; then
            printf '%s\n' "$app"
        fi
    done
}

# Succeed when the stack file differs between BASE and HEAD.
stack_file_changed() {
    ! git diff --quiet "$1" "$2" -- "$ROSE_ASH_STACK_FILE"
}

# Print the arguments as a JSON array of strings. App names need no escaping.
json_array() {
    local out="" name
    for name in "$@"; do
        out+="${out:+,}\"$name\""
    done
    printf '[%s]\n' "$out"
}

changed_apps_main() {
    local json=0 head=HEAD base="" have_base=0

    while (($# > 0)); do
        case $1 in
            -h | --help)
                changed_apps_usage
                return 0
                ;;
            --list)
                printf '%s\n' "${ROSE_ASH_APPS[@]}"
                return 0
                ;;
            --json)
                json=1
                ;;
            --head)
                if (($# < 2)); then
                    printf 'changed-apps: --head needs a commit\n' >&2
                    return 2
                fi
                head=$2
                shift
                ;;
            -*)
                printf 'changed-apps: unknown option %s (see --help)\n' "$1" >&2
                return 2
                ;;
            *)
                if ((have_base)); then
                    printf 'changed-apps: one BASE expected, got another: %s\n' "$1" >&2
                    return 2
                fi
                base=$1
                have_base=1
                ;;
        esac
        shift
    done

    if ((!have_base)); then
        printf 'changed-apps: missing BASE commit (see --help)\n' >&2
        return 2
    fi
    if ! is_commit "$head"; then
        printf 'changed-apps: --head %s is not a commit in this repository\n' "$head" >&2
        return 2
    fi

    local apps=()
    mapfile -t apps < <(changed_apps "$base" "$head")
    if ((json)); then
        json_array "${apps[@]}"
    elif ((${#apps[@]} > 0)); then
        printf '%s\n' "${apps[@]}"
    fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    changed_apps_main "$@"
fi
