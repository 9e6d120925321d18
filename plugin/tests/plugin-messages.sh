# plugin-messages.sh - sourced by the GIMP test scripts.
#
#   p2p_plugin_messages LOG
#       prints the GLib, GEGL, GTK or libgimp CRITICAL and WARNING lines
#       that our plug-in process (gimp-pix2pix) wrote into a GIMP log;
#       succeeds (status 0) when there is none.  Also libgimpui's checks of
#       our GIMP 3 dialog ("Procedure 'plug-in-pix2pix-...': duplicate
#       mnemonic ...", printed without a log domain).  GIMP's own messages and
#       those of its other plug-ins (Script-Fu's are many) are not ours.
#       Left out: libgimp's "gimp_flush(): error: Broken pipe" at the end
#       of a run (GIMP 3.0.4 often closes its end of the pipe before the
#       plug-in's closing message arrives; seen after successful and failed
#       runs alike, not after GIMP's own plug-ins' runs, cause not found).
#       Matched by "gimp_flush()" alone: under LANGUAGE=de the rest is
#       translated, and another process's output can land inside the line.
p2p_plugin_messages () {
  grep -aE -e '^\(gimp-pix2pix:[0-9]+\): [A-Za-z0-9_-]+-(CRITICAL|WARNING) \*\*' \
    -e "^Procedure 'plug-in-pix2pix-[a-z-]*': " "$1" |
    grep -aviE 'LibGimp-WARNING \*\*: .*gimp_flush\(\)' > "$1.ours"
  if [ -s "$1.ours" ]; then
    cat "$1.ours"
    return 1
  fi
  return 0
}
