"""Build the bourse package from the checkout: CMake builds the `_bourse`
extension (linked against bourse_core, the library of the `bourse` binary)
and the in-tree plugins in the project's build directory ($BOURSE_BUILD_DIR,
default ../build, configured like `make build` when it is not yet); this
script then puts the module and the plugins into the package. Offline: it
only runs cmake and ninja on the checkout."""
import glob
import os
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True  # a platform wheel: the package carries a compiled module


class BuildWithCMake(build_py):
    def run(self):
        super().run()
        if not os.path.exists(os.path.join(ROOT, "CMakeLists.txt")):
            sys.exit("bourse: build from the checkout (python/ inside the Bourse source tree); "
                     "this copy has no ../CMakeLists.txt")
        build = os.environ.get("BOURSE_BUILD_DIR", os.path.join(ROOT, "build"))
        if not os.path.exists(os.path.join(build, "build.ninja")):
            subprocess.check_call(["cmake", "-S", ROOT, "-B", build, "-G", "Ninja",
                                   "-DCMAKE_BUILD_TYPE=Release", "-DBOURSE_WERROR=ON",
                                   "-DPython3_EXECUTABLE=" + sys.executable])
        jobs = os.environ.get("BOURSE_JOBS", str(os.cpu_count() or 2))
        subprocess.check_call(["cmake", "--build", build, "--target", "bourse_python", "-j", jobs])
        stage = os.path.join(build, "python", "bourse")
        dest = os.path.join(self.build_lib, "bourse")
        os.makedirs(os.path.join(dest, "plugins"), exist_ok=True)
        mods = glob.glob(os.path.join(stage, "_bourse*.so"))
        if not mods:
            sys.exit("bourse: the build produced no _bourse module in %s (python3-dev missing?)" % stage)
        for m in mods:
            shutil.copy2(m, dest)
        for p in glob.glob(os.path.join(build, "plugins", "*.so")):
            shutil.copy2(p, os.path.join(dest, "plugins"))


setup(
    packages=["bourse"],
    package_dir={"bourse": "bourse"},
    cmdclass={"build_py": BuildWithCMake},
    distclass=BinaryDistribution,
    zip_safe=False,
)
