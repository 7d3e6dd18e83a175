namespace Cimef.Site.Data.Entities;

public class Patient
{
    public int Id { get; set; }
    public string FullName { get; set; } = "";
    /// <summary>Lower-case, accent-free copy of <see cref="FullName"/> used for search.</summary>
    public string SearchName { get; set; } = "";
    /// <summary>International form, e.g. +221771234567.</summary>
    public string Phone { get; set; } = "";
    public string? Email { get; set; }
    public DateOnly? DateOfBirth { get; set; }
    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    /// <summary>
    /// The patient side's language for this patient's SMS and e-mail ("fr", "wo" or "en"; null = French), set by staff
    /// or by the patient's last choice on the portal.
    /// </summary>
    public string? Language { get; set; }

    public PatientAccess? Access { get; set; }
    public List<Invoice> Invoices { get; set; } = [];
}
