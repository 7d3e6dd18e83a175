using System.ComponentModel.DataAnnotations;

namespace Cimef.Site.Pages.Billing.Exams;

/// <summary>The fields of a catalogue entry (add and edit forms).</summary>
public sealed class ExamInput
{
    [Required(ErrorMessage = "Le code est obligatoire.")]
    [RegularExpression("^[A-Za-z0-9-]{2,20}$", ErrorMessage = "Code : 2 à 20 lettres, chiffres ou tirets.")]
    public string? Code { get; set; }

    [Required(ErrorMessage = "Le libellé est obligatoire.")]
    [StringLength(120, ErrorMessage = "Le libellé ne doit pas dépasser 120 caractères.")]
    public string? Name { get; set; }

    [Required(ErrorMessage = "La modalité est obligatoire.")]
    [StringLength(40, ErrorMessage = "La modalité ne doit pas dépasser 40 caractères.")]
    public string? Modality { get; set; }

    [Range(0, 10_000_000, ErrorMessage = "Le prix doit être un nombre entier de FCFA entre 0 et 10 000 000.")]
    public int Price { get; set; }
}
