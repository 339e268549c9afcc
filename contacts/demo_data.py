"""Names and titles for made-up contacts: the demo data and the benchmarks."""

# Kept as text: forty names read better on four lines than on forty.
_FIRST_NAMES = """
    Anna Lukas Sofia Mateo Emma Noah Chloé Louis Giulia Leonardo Lena Jonas Marta
    Pablo Inès Hugo Zofia Jakub Freja Oskar Elena Nikos Aino Eetu Saoirse Cian
    Maja Filip Clara Tomás Ingrid Lars Petra Milan Léa Gabriel Alba Diego Ola Mia
"""
_LAST_NAMES = """
    Müller Schmidt García Fernández Rossi Bianchi Dubois Martin Nowak Kowalski
    Jensen Nielsen Andersson Johansson Virtanen Korhonen Murphy Kelly Novák
    Horváth Papadopoulos Silva Santos Janssen Peeters Lambert Moreau Ferrari
    Romano Wagner Becker Hoffmann Lindqvist Berg Costa Pereira Schneider Fischer
    Weber Meyer
"""
FIRST_NAMES = tuple(_FIRST_NAMES.split())
LAST_NAMES = tuple(_LAST_NAMES.split())
TITLES = (
    "Head of Procurement",
    "Chief Technology Officer",
    "Marketing Manager",
    "Operations Director",
    "Data Protection Officer",
    "Sales Lead",
    "IT Manager",
    "Finance Director",
    "Product Owner",
    "Managing Director",
)
