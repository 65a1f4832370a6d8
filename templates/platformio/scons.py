# tool-scons for offline PlatformIO: runs the pip-installed SCons that tinykiln depends on.
import sys

from SCons.Script.Main import main

sys.exit(main())
