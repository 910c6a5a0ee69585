#!/usr/bin/env bash
# Build Rose Ash app images and roll them out to the Docker Swarm stack.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/changed-apps.sh
source "$ROOT/scripts/changed-apps.sh"

REGISTRY=${DEPLOY_REGISTRY:-registry.rose-ash.com:5000}
STACK=${DEPLOY_STACK:-coop}
# The last deployed commit of each app is kept as a git tag with this prefix.
TAG_PREFIX=deployed/

usage() {
    cat <<USAGE
Usage: ./deploy.sh [--dry-run] [--stack] [APP ...]
       ./deploy.sh [--dry-run] [--stack] --all
       ./deploy.sh --print-changed [BASE]

Build the image of each chosen app, push it to the registry, then update the
app's service in the Swarm stack. Run it on a Swarm manager that is logged in
to the registry (docker login ${REGISTRY}).

Registry: ${REGISTRY}
Stack:    ${STACK}
Apps:     ${ROSE_ASH_APPS[*]}

Which apps:
  APP ...           the named apps, whether they changed or not
  --all             every app
  (none)            the apps that changed since their last deployment, any
                    app whose image is not in the local image store, and any
                    app never deployed from this clone. A change to one of
                    these paths means every app:
                      ${ROSE_ASH_SHARED_PATHS[*]}

How:
  --stack           apply docker-compose.yml with 'docker stack deploy'
                    instead of updating services one by one. Without APP
                    names this is chosen automatically when docker-compose.yml
                    changed or an app has no recorded deployment
  --dry-run         print the docker and git commands without running them.
                    The image check is skipped too, and every image counts
                    as present
  --print-changed [BASE]
                    print the apps changed since commit BASE, or without BASE
                    since each app's recorded deployment. Uses git, not docker
  -h, --help        show this help and exit

Recorded deployments:
  After a successful run, the git tag ${TAG_PREFIX}APP (for example
  ${TAG_PREFIX}blog) points at the commit that was deployed. The tags are
  local to this clone.
    List them:                      git tag --list '${TAG_PREFIX}*'
    Force a rebuild on the next run: git tag --delete ${TAG_PREFIX}blog
  The images are built from the working tree, so commit before deploying.
  A warning is printed when tracked files have uncommitted changes.

Environment:
  DEPLOY_REGISTRY   image registry (default registry.rose-ash.com:5000)
  DEPLOY_STACK      Swarm stack name (default coop)

Exit status: 0 on success, 1 when a command failed, 2 on a usage error.
USAGE
}

fail_usage() {
    printf 'deploy.sh: %s\n' "$1" >&2
    exit 2
}

dry_run=0

# Print a command, then run it unless this is a dry run.
run() {
    printf '+'
    printf ' %q' "$@"
    printf '\n'
    if ((dry_run)); then
        return 0
    fi
    "$@"
}

image_of() {
    printf '%s/%s:latest' "$REGISTRY" "$1"
}

# Print the Swarm services that run an app's image. The EventProcessor runs
# the federation image, so it is updated together with federation.
services_of() {
    printf '%s_%s\n' "$STACK" "$1"
    if [[ $1 == federation ]]; then
        printf '%s_event-processor\n' "$STACK"
    fi
}

# Succeed when APP's image changed between COMMIT and HEAD.
app_changed_since() {
    local commit=$1 app=$2 changed
    changed=$(changed_apps "$commit" HEAD)
    [[ $'\n'$changed$'\n' == *$'\n'"$app"$'\n'* ]]
}

deployed_commit() {
    git rev-parse --quiet --verify "refs/tags/$TAG_PREFIX$1^{commit}"
}

image_exists() {
    if ((dry_run)); then
        printf '+ docker image inspect %s (skipped in a dry run, so the image counts as present)\n' "$(image_of "$1")"
        return 0
    fi
    docker image inspect "$(image_of "$1")" >/dev/null 2>&1
}

# Print the apps that changed since each app's recorded deployment, or since
# BASE when one is given.
print_changed() {
    local base=${1:-} app commit
    if [[ -n $base ]]; then
        if ! is_commit "$base"; then
            fail_usage "BASE '$base' is not a commit in this repository"
        fi
        changed_apps "$base" HEAD
        return 0
    fi
    for app in "${ROSE_ASH_APPS[@]}"; do
        if ! commit=$(deployed_commit "$app"); then
            printf '%s\n' "$app"
        elif app_changed_since "$commit" "$app"; then
            printf '%s\n' "$app"
        fi
    done
}

# Fill the global arrays selected and reasons with the apps that need a
# deployment, and set use_stack when docker-compose.yml must be applied.
detect_changes() {
    local app commit
    for app in "${ROSE_ASH_APPS[@]}"; do
        if ! commit=$(deployed_commit "$app"); then
            selected+=("$app")
            reasons+=("no recorded deployment")
            use_stack=1
            continue
        fi
        if stack_file_changed "$commit" HEAD; then
            use_stack=1
        fi
        if app_changed_since "$commit" "$app"; then
            selected+=("$app")
            reasons+=("changed since ${commit:0:12}")
        fi
    done

    for app in "${ROSE_ASH_APPS[@]}"; do
        is_selected "$app" && continue
        if ! image_exists "$app"; then
            selected+=("$app")
            reasons+=("image $(image_of "$app") not found")
        fi
    done
}

is_selected() {
    local app
    for app in "${selected[@]}"; do
        [[ $app == "$1" ]] && return 0
    done
    return 1
}

# Put the selected apps in the canonical order, keeping their reasons.
sort_selection() {
    local app i ordered=() ordered_reasons=()
    for app in "${ROSE_ASH_APPS[@]}"; do
        for i in "${!selected[@]}"; do
            if [[ ${selected[$i]} == "$app" ]]; then
                ordered+=("$app")
                ordered_reasons+=("${reasons[$i]}")
                break
            fi
        done
    done
    selected=("${ordered[@]}")
    reasons=("${ordered_reasons[@]}")
}

deploy_selected() {
    local app service head
    head=$(git rev-parse HEAD)

    for app in "${selected[@]}"; do
        run docker build -f "$app/Dockerfile" -t "$(image_of "$app")" .
    done
    for app in "${selected[@]}"; do
        run docker push "$(image_of "$app")"
    done

    if ((use_stack)); then
        run docker stack deploy --with-registry-auth -c docker-compose.yml "$STACK"
    else
        for app in "${selected[@]}"; do
            while IFS= read -r service; do
                run docker service update --with-registry-auth --image "$(image_of "$app")" "$service"
            done < <(services_of "$app")
        done
    fi

    for app in "${selected[@]}"; do
        run git update-ref "refs/tags/$TAG_PREFIX$app" "$head"
    done
    if ((dry_run)); then
        printf 'Dry run: nothing was built, pushed, deployed or recorded.\n'
    else
        printf 'Deployed %s at %s.\n' "${selected[*]}" "${head:0:12}"
    fi
}

main() {
    local all=0 print=0 names=() app i
    use_stack=0
    selected=()
    reasons=()

    while (($# > 0)); do
        case $1 in
            -h | --help)
                usage
                return 0
                ;;
            --all) all=1 ;;
            --dry-run) dry_run=1 ;;
            --stack) use_stack=1 ;;
            --print-changed) print=1 ;;
            -*) fail_usage "unknown option $1 (see ./deploy.sh --help)" ;;
            *) names+=("$1") ;;
        esac
        shift
    done

    cd "$ROOT"

    if ((print)); then
        ((all == 0 && dry_run == 0 && use_stack == 0)) || fail_usage "--print-changed takes no other option"
        ((${#names[@]} <= 1)) || fail_usage "--print-changed takes at most one BASE commit"
        print_changed "${names[0]:-}"
        return 0
    fi

    for app in "${names[@]}"; do
        is_app "$app" || fail_usage "unknown app '$app'. Valid apps: ${ROSE_ASH_APPS[*]}"
    done
    if ((all)) && ((${#names[@]} > 0)); then
        fail_usage "--all and app names exclude each other"
    fi

    if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
        printf 'deploy.sh: warning: tracked files have uncommitted changes. The images include them, but the deployment is recorded at HEAD.\n' >&2
    fi

    if ((all)); then
        selected=("${ROSE_ASH_APPS[@]}")
        for app in "${selected[@]}"; do reasons+=("--all"); done
    elif ((${#names[@]} > 0)); then
        for app in "${names[@]}"; do
            is_selected "$app" && continue
            selected+=("$app")
            reasons+=("named")
        done
    else
        detect_changes
    fi

    if ((${#selected[@]} == 0)); then
        printf 'Nothing to deploy: no app changed since its last deployment and every image exists.\n'
        return 0
    fi
    sort_selection

    printf 'Deploying to stack %s:\n' "$STACK"
    for i in "${!selected[@]}"; do
        printf '  %-11s %s\n' "${selected[$i]}" "${reasons[$i]}"
    done
    deploy_selected
}

main "$@"
