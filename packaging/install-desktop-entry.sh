#!/bin/sh
# Add htr-desktop to the desktop's application menu (this user only): run it from the unpacked folder.
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
APPS="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
ICONS="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/scalable/apps"
mkdir -p "$APPS" "$ICONS"
cp "$HERE/htr-desktop.svg" "$ICONS/htr-desktop.svg"
sed "s|^Exec=htr-desktop|Exec=\"$HERE/htr-desktop\"|" "$HERE/htr-desktop.desktop" > "$APPS/htr-desktop.desktop"
echo "installed $APPS/htr-desktop.desktop"
