namespace Cimef.Site.Web;

public static class AuthSchemes
{
    public const string Staff = "Identity.Application"; // IdentityConstants.ApplicationScheme
    public const string ApiToken = "ApiToken";
    public const string Patient = "Patient";
    /// <summary>Staff pages and staff APIs accept either the staff cookie or a Bearer token.</summary>
    public const string StaffOrToken = Staff + "," + ApiToken;
}
