using Cimef.Site.Data.Entities;

namespace Cimef.Site.Web;

/// <summary>Authorization policies, by use case. Admin passes every staff policy.</summary>
public static class Policies
{
    public const string Staff = "staff";
    public const string Admin = "admin";
    public const string FrontDesk = "front-desk";       // Secretary, Admin
    public const string Billing = "billing";            // Secretary, Accountant, Admin
    public const string Payments = "payments";          // Accountant, Admin
    public const string Reports = "reports";            // Doctor, Admin
    public const string AccessManagement = "access";    // Secretary, Admin
    /// <summary>Handing over patient credentials (reveal, invoice PDF with the password, API): Access:CredentialRoles.</summary>
    public const string Credentials = "credentials";
    /// <summary>The patient portal: a valid patient session (its own scheme), nothing else.</summary>
    public const string Patient = "patient";

    public static void Add(Microsoft.AspNetCore.Authorization.AuthorizationOptions o)
    {
        void Policy(string name, params string[] roles) => o.AddPolicy(name, p =>
        {
            p.AddAuthenticationSchemes(AuthSchemes.Staff, AuthSchemes.ApiToken);
            p.RequireAuthenticatedUser();
            if (roles.Length > 0) p.RequireRole(roles);
        });
        Policy(Staff, Roles.Staff); // an Integration account reaches no staff page
        Policy(Admin, Roles.Admin);
        Policy(FrontDesk, Roles.Admin, Roles.Secretary);
        Policy(Billing, Roles.Admin, Roles.Secretary, Roles.Accountant);
        Policy(Payments, Roles.Admin, Roles.Accountant);
        Policy(Reports, Roles.Admin, Roles.Doctor);
        Policy(AccessManagement, Roles.Admin, Roles.Secretary);
        o.AddPolicy(Patient, p => p.AddAuthenticationSchemes(AuthSchemes.Patient).RequireAuthenticatedUser());
    }

    /// <summary>The credentials policy comes from configuration; an empty role list means nobody sees a password.</summary>
    public static void AddCredentials(Microsoft.AspNetCore.Authorization.AuthorizationOptions o, AccessOptions access) => o.AddPolicy(Credentials, p =>
    {
        p.AddAuthenticationSchemes(AuthSchemes.Staff, AuthSchemes.ApiToken);
        p.RequireAuthenticatedUser();
        var roles = access.CredentialRoles.Where(r => !string.IsNullOrWhiteSpace(r)).Select(r => r.Trim()).ToArray();
        if (roles.Length > 0) p.RequireRole(roles);
        else p.RequireAssertion(_ => false);
    });
}
