using Microsoft.AspNetCore.Identity;

namespace Cimef.Site.Data.Entities;

/// <summary>A member of the clinic's staff (Identity user). Roles: see <see cref="Roles"/>.</summary>
public class StaffUser : IdentityUser
{
    public string FullName { get; set; } = "";
    public bool IsDisabled { get; set; }
    public DateTime CreatedAt { get; set; }
}

public static class Roles
{
    public const string Admin = "Admin";
    public const string Secretary = "Secretary";
    public const string Doctor = "Doctor";
    public const string Accountant = "Accountant";
    /// <summary>A machine account (RIS, health record): reads and pushes results over /fhir, reaches nothing else.</summary>
    public const string Integration = "Integration";

    public static readonly string[] All = [Admin, Secretary, Doctor, Accountant, Integration];

    /// <summary>The roles that may use the staff pages.</summary>
    public static readonly string[] Staff = [Admin, Secretary, Doctor, Accountant];

    public static string French(string role) => role switch
    {
        Admin => "Administrateur",
        Secretary => "Secrétaire",
        Doctor => "Médecin",
        Accountant => "Comptable",
        Integration => "Intégration (FHIR)",
        _ => role,
    };
}
