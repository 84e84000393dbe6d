"""``fastmlp export-c``: a saved network as a C header (fastmlp.export.export_c)."""
from .arguments import blame, c_identifier, new_file
from .evaluate import add_model_argument, load_model

NAME = "export-c"
HELP = "write a saved network as a self-contained C header for inference"


def add_arguments(parser):
    add_model_argument(parser)
    parser.add_argument("out", type=new_file(".h"), metavar="OUT.h", help="the header to write")
    parser.add_argument("--fixed-point", action="store_true",
                        help="integer (fixed-point) arithmetic instead of floating point")
    parser.add_argument("--name", type=c_identifier,
                        help="prefix of the C names (default: the name of OUT.h made into a "
                             "C identifier)")


def run(args):
    from ..export import export_c

    net = load_model(args.model)
    with blame("OUT.h", args.out):
        written = export_c(net, args.out, fixed_point=args.fixed_point, name=args.name)
    print(f"wrote {written}")
    return 0
